// Entry point of `npx kiln …`: a table of sub-commands, each in its own file under bin/commands/.
import type { Command } from "./command.ts";

const load = (name: string) => async (): Promise<Command> => (await import(`./commands/${name}.ts`)).default as Command;
// `kiln bench` is implemented in bench/, which imports bin/: bin reaches it only by this run-time import of
// bench/index.ts (a plugin typed by bin's Command), never statically (test/boundaries.test.ts).
const loadBench = async (): Promise<Command> => (await import("../bench/index.ts")).default as Command;

const commands: Record<string, () => Promise<Command>> = {
  start: load("start"),
  train: load("train"),
  sample: load("sample"),
  serve: load("serve"),
  eval: load("eval"),
  info: load("info"),
  data: load("data"),
  gradcheck: load("gradcheck"),
  bench: loadBench,
  doctor: load("doctor"),
  cache: load("cache"),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log("usage: kiln <command> [options]\n\ncommands:");
    for (const [key, load] of Object.entries(commands)) console.log(`  ${key.padEnd(10)} ${(await load()).summary}`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`kiln: unknown command '${name}'. Run 'kiln help' for the list.`);
    return 2;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (error) {
    const exitCode = (error as { exitCode?: number }).exitCode;
    // A usage error (bin/flags.ts) exits with 2 and points at the command's flags.
    console.error(`kiln ${name}: ${(error as Error).message}${exitCode === 2 ? `\n(kiln ${name} --help lists its flags)` : ""}`);
    if (process.env.KILN_DEBUG) console.error((error as Error).stack);
    return exitCode ?? 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
