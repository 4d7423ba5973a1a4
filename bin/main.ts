// Entry point of `npx kiln …`: a table of sub-commands, each in its own file under bin/commands/.
import type { Command } from "./command.ts";

const load = (name: string) => async (): Promise<Command> => (await import(`./commands/${name}.ts`)).default as Command;

const commands: Record<string, () => Promise<Command>> = {};
void load;

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
  return (await (await load()).run(rest)) ?? 0;
}

process.exitCode = await main(process.argv.slice(2));
