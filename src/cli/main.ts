// The `bootpath` command: a table of subcommands, each in its own file.
// Exit codes: 0 success/reached, 1 guest crashed, 2 bad input or usage,
// 3 guest hung, 4 instruction budget exhausted.
import { commands } from './commands.ts';
import { UsageError, InputError } from './errors.ts';

export async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`bootpath trace | head`) ends the output, not the process with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  }
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`bootpath: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await cmd.load()).run(rest);
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError) {
      process.stderr.write(`bootpath ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function usage(): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`);
  return `usage: bootpath <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}
