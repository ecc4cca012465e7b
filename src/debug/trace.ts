// A per-instruction trace of a run: instruction count, rip, symbol,
// disassembly, and the registers the instruction changed — or, in the
// `regs` format, the full register state before each instruction in the
// shape QEMU's `-d cpu -singlestep` log prints it, so the two line up under
// `diff` (qemuLogToRegs converts QEMU's log into the same lines).
import { GPR_NAMES, captureState, disassemble, type CpuState } from '../../emulator/index.ts';
import { codeByte } from '../analysis/guestCode.ts';
import type { BootRun } from '../run/bootRun.ts';

export type TraceFormat = 'text' | 'regs';

export interface TraceOptions {
  /** Instructions to trace (each rep iteration is one). */
  count: number;
  format: TraceFormat;
  line: (text: string) => void;
}

const h16 = (v: bigint | number) => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
const QEMU_ORDER = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** One line of register state, as qemuLogToRegs writes it from a QEMU log. */
export function regsLine(s: CpuState): string {
  return `RIP=${h16(s.rip)} ${QEMU_ORDER.map((n) => `${n.toUpperCase()}=${h16(s.gpr[n]!)}`).join(' ')} RFL=${(s.rflags >>> 0).toString(16).padStart(8, '0')}`;
}

function instructionText(run: BootRun): string {
  const c = run.machine.cpu, rip = c.getRip();
  const bytes: number[] = [];
  for (let k = 0; k < 15; k++) { const b = codeByte(c, rip, k); if (b === null) break; bytes.push(b); }
  return bytes.length ? disassemble(Uint8Array.from(bytes), c.codeBits, rip) : '(code not mapped)';
}

/** Trace `count` instructions from where the run is. Returns why it stopped early, or null. */
export function traceRun(run: BootRun, o: TraceOptions): string | null {
  let before = captureState(run.machine.cpu);
  for (let k = 0; k < o.count; k++) {
    const icount = run.icount, rip = before.rip;
    const text = o.format === 'regs' ? regsLine(before) : `${icount} ${'0x' + rip.toString(16)} <${run.describe(rip)}> ${instructionText(run)}`;
    const s = run.step();
    const after = captureState(run.machine.cpu);
    if (o.format === 'regs') o.line(text);
    else {
      const changed = GPR_NAMES.filter((n) => after.gpr[n] !== before.gpr[n]).map((n) => `${n}=${after.gpr[n]!.toString(16)}`);
      if (after.rflags !== before.rflags) changed.push(`rflags=${after.rflags.toString(16)}`);
      for (const r of ['cr0', 'cr3', 'cr4', 'efer'] as const) if (after[r] !== before[r]) changed.push(`${r}=${after[r].toString(16)}`);
      if (after.mode !== before.mode) changed.push(`mode=${after.mode}`);
      o.line(changed.length ? `${text}  | ${changed.join(' ')}` : text);
    }
    before = after;
    if (s.kind === 'end') return `${s.outcome}: ${s.reason}`;
  }
  return null;
}

/**
 * QEMU's `-d cpu` dumps as regsLine lines, one per dump: 64-bit dumps
 * (RAX=… RIP=… RFL=…) and 32-bit ones (EAX=… EIP=… EFL=…, r8-r15 then 0).
 * With -singlestep there is one dump per instruction, taken before it runs,
 * as bootpath's regs format.
 */
export function qemuLogToRegs(log: string): string[] {
  const out: string[] = [];
  for (const d of log.split(/(?=^[RE]AX=)/m)) {
    if (!/^[RE]AX=/.test(d)) continue;
    const v: Record<string, string> = {};
    for (const m of d.matchAll(/\b([RE][A-Z0-9]{1,2}|R\d{1,2}|EFL|RFL|EIP|RIP)\s*=\s*([0-9a-f]+)/gi)) {
      const k = m[1]!.toUpperCase().replace(/^E(..)$/, 'R$1');
      v[k] ??= m[2]!;
    }
    if (!v.RIP) continue;
    const reg = (n: string) => (v[n] ?? (/^R\d/.test(n) ? '0' : '?')).padStart(16, '0');
    out.push(`RIP=${reg('RIP')} ${QEMU_ORDER.map((n) => `${n.toUpperCase()}=${reg(n.toUpperCase())}`).join(' ')} RFL=${(v.RFL ?? '?').padStart(8, '0')}`);
  }
  return out;
}
