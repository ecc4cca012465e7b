// `bootpath multiboot <elf> [--max-instructions N]`: run a multiboot kernel
// on the minimal machine the way `qemu-system-x86_64 -kernel` would. Serial
// output goes to stdout; the exit status is what the guest wrote to the
// isa-debug-exit port (QEMU's (value << 1) | 1, truncated to 8 bits); a
// triple fault, a hang or an exhausted budget is reported with a state dump.
import { readFile } from 'node:fs/promises';
import type { Command } from './commands.ts';
import { UsageError, InputError } from './errors.ts';
import { Machine, describeOutcome } from '../machine/machine.ts';
import { loadMultibootImage, enterMultiboot, MultibootError } from '../boot/multiboot.ts';
import { MultibootRun } from '../run/multibootRun.ts';
import { serveGdb } from './gdb.ts';
import { DEFAULT_GDB_LISTEN } from './options.ts';
import { jsonDocument } from './json.ts';

const USAGE = 'usage: bootpath multiboot <elf> [--max-instructions N] [--ram-mib N] [--gdb [[host:]port]] [--json]';

function parse(args: string[]): { file: string; max: number; ram: number; gdb?: string; json: boolean } {
  let file: string | undefined, gdb: string | undefined;
  let max = 1e9, ram = 128, json = false;
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (a === '--json') json = true;
    else if (a === '--gdb') {
      const next = args[k + 1];
      gdb = next === undefined || next.startsWith('--') ? DEFAULT_GDB_LISTEN : args[++k]!;
    } else if (a === '--max-instructions' || a === '--ram-mib') {
      const v = Number(args[++k]);
      if (!Number.isInteger(v) || v <= 0) throw new UsageError(`${a} needs a positive integer`);
      if (a === '--ram-mib') ram = v; else max = v;
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (file === undefined) file = a;
    else throw new UsageError('one kernel file expected');
  }
  if (file === undefined) throw new UsageError(USAGE);
  return { file, max, ram, gdb, json };
}

export const multiboot: Command = {
  name: 'multiboot',
  summary: 'run a multiboot kernel (like qemu -kernel): serial to stdout, exit port as exit code',
  async run(args) {
    const { file, max, ram, gdb, json } = parse(args);
    let serialText = '';
    let bytes: Uint8Array;
    try { bytes = new Uint8Array(await readFile(file)); } catch (e) { throw new InputError(`cannot read ${file}: ${(e as Error).message}`); }
    if (gdb !== undefined) {
      const run = new MultibootRun({ elf: bytes, file, ramSize: ram * 1024 * 1024, maxInstructions: max, serial: (b) => process.stdout.write(Uint8Array.of(b)) });
      return serveGdb(run, gdb, {}, [{ stage: 'program', command: `symbol-file ${file}`, note: 'the program\'s own symbols, at their link addresses' }]);
    }
    const m = new Machine({ ramSize: ram * 1024 * 1024, serial: json ? (b) => { serialText += String.fromCharCode(b); } : (b) => process.stdout.write(Uint8Array.of(b)) });
    try {
      enterMultiboot(m.cpu, m.ram, loadMultibootImage(m.ram, bytes));
    } catch (e) {
      if (e instanceof MultibootError || e instanceof RangeError) throw new InputError(`${file}: ${e.message}`);
      throw e;
    }
    const o = m.run(max);
    if (json) {
      const status = o.kind === 'exit' ? o.status & 0xff : o.kind === 'triple-fault' || o.kind === 'fault' ? 1 : o.kind === 'halt' ? 3 : 4;
      process.stdout.write(jsonDocument('multiboot', { file, outcome: o.kind, exitStatus: o.kind === 'exit' ? o.status : null, detail: describeOutcome(o).trimEnd(), instructions: m.cpu.icount, console: serialText, state: o.state }));
      return status;
    }
    if (o.kind === 'exit') return o.status & 0xff;
    process.stderr.write(`bootpath multiboot: ${describeOutcome(o)}`);
    return o.kind === 'triple-fault' || o.kind === 'fault' || o.kind === 'runaway' ? 1 : o.kind === 'halt' ? 3 : 4;
  },
};
