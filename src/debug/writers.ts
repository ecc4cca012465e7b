// A write record in words, for the debugger: the CPU's instruction with its
// address, symbol, disassembly and time; or the loader, a device, the
// hypervisor (with the Xen field) or gdb itself.
import { disassemble } from '../../emulator/index.ts';
import type { WriteRecord } from '../machine/provenance.ts';
import type { MachineRun } from '../run/machineRun.ts';

const n = (x: number) => x.toLocaleString('en-US');

export function formatWriter(run: MachineRun, w: WriteRecord): string {
  switch (w.kind) {
    case 'cpu': {
      const rip = w.rip ?? 0n;
      const bits = run.machine.cpu.codeBits;
      const insn = w.bytes ? disassemble(w.bytes, bits, rip) : '?';
      return `the CPU at instruction ${n(w.icount)}: rip 0x${rip.toString(16)} <${run.describe(rip, w.icount)}> ${insn}`;
    }
    case 'hypervisor': return `the hypervisor at instruction ${n(w.icount)}: ${w.what ?? '?'}`;
    case 'loader': return `the loader (${w.what ?? 'kexec'})`;
    case 'device': return `a device at instruction ${n(w.icount)}: ${w.what ?? '?'}`;
    case 'debugger': return `gdb at instruction ${n(w.icount)}`;
  }
}
