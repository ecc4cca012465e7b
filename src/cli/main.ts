// The `bootpath` command: a table of subcommands, each in its own file.
// Exit codes: 0 success/reached, 1 guest crashed, 2 bad input or usage,
// 3 guest hung, 4 instruction budget exhausted, 70 internal error (a bug in
// bootpath: reported with a reproducer file, never as a guest crash).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { commands } from './commands.ts';
import { InternalError } from '../errors.ts';
import { UsageError, InputError } from './errors.ts';
import { jsonDocument } from './json.ts';

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
      // With --json the error is a document too (docs/json.md), so a script reading stdout learns why.
      if (rest.includes('--json')) process.stdout.write(jsonDocument(name, { error: { kind: e instanceof UsageError ? 'usage' : 'input', message: e.message } }));
      return 2;
    }
    return internalError(name, rest, e);
  }
}

/** A bug in bootpath: say so, and write what reproduces it (the command line, where the run was, the stack). */
function internalError(name: string, args: string[], e: unknown): number {
  const file = resolve(`bootpath-internal-error-${process.pid}.json`);
  const err = e instanceof InternalError ? e.original : e;
  const report = {
    what: 'an internal error of bootpath (a bug in the emulator, not a guest failure)',
    command: ['bootpath', name, ...args], cwd: process.cwd(), node: process.version,
    instructions: e instanceof InternalError ? e.icount : null,
    rip: e instanceof InternalError ? `0x${e.rip.toString(16)}` : null,
    message: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : null,
  };
  let where = '';
  try { writeFileSync(file, JSON.stringify(report, null, 2) + '\n'); where = `; the reproducer is in ${file}`; } catch { /* an unwritable directory: the message still says what happened */ }
  process.stderr.write(`bootpath ${name}: internal error (a bug in bootpath, not the guest): ${e instanceof Error ? e.message : String(e)}${where}\n`);
  return 70;
}

function usage(): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`);
  return `usage: bootpath <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}
