// Command-line options for the subcommands: node's parseArgs, strict, with
// its errors turned into a UsageError that carries the command's usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';
import { JIT_BACKENDS, isJitBackend, type JitBackend } from '../machine/jit.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--gdb` may stand alone: gdb's usual address then (QEMU's -s listens there too). */
export const DEFAULT_GDB_LISTEN = '127.0.0.1:1234';

/** Options whose value may be left out, with the value they then take. */
const OPTIONAL_VALUES: Record<string, string> = { '--gdb': DEFAULT_GDB_LISTEN };

export function withOptionalValues(args: string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    out.push(a);
    const dflt = OPTIONAL_VALUES[a];
    if (dflt !== undefined && (k + 1 >= args.length || args[k + 1]!.startsWith('--'))) out.push(dflt);
  }
  return out;
}

export function parseOptions<T extends Options>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: withOptionalValues(args), allowPositionals: false, strict: true, options }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
}

/** A --jit value: one of JIT_BACKENDS, else a UsageError naming them. */
export function parseJitOption(v: string): JitBackend {
  if (isJitBackend(v)) return v;
  throw new UsageError(`--jit must be ${JIT_BACKENDS.join(' or ')}, not '${v}'`);
}
