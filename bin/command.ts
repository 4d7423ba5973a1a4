// What a sub-command of `kiln` provides. Each lives in bin/commands/<name>.ts as its default export.
export interface Command {
  summary: string;
  usage: string;
  run: (argv: string[]) => Promise<number | void>;
}

/**
 * Parses `--flag value`, `--flag=value` and bare `--switch` options; everything else is positional.
 * Loose (unknown flags pass): only the bench/gpu scripts use it; `kiln` commands use bin/flags.ts.
 */
export function parseArgs(argv: string[], switches: readonly string[] = []): { flags: Map<string, string>; positional: string[] } {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (switches.includes(arg.slice(2))) flags.set(arg.slice(2), "true");
    else {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`option ${arg} needs a value`);
      flags.set(arg.slice(2), value);
      i++;
    }
  }
  return { flags, positional };
}
