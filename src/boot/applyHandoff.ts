// Put the CPU in the state relocate_kernel leaves when it returns into
// purgatory (the plan's hand-off: registers, control registers, segments,
// descriptor tables), as if the old kernel had just executed its last `ret`.
import type { Cpu } from '../../emulator/index.ts';
import type { HandoffState } from './kexec/handoff.ts';

const GPRS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
const lo = (v: bigint) => Number(v & 0xffffffffn) | 0;
const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn) | 0;

export function applyHandoff(c: Cpu, h: HandoffState): void {
  GPRS.forEach((r, i) => c.setReg(i, h.regs[r]));
  c.cr0 = lo(h.cr0); c.cr2Lo = lo(h.cr2); c.cr2Hi = hi(h.cr2);
  c.cr3Lo = lo(h.cr3); c.cr3Hi = hi(h.cr3); c.cr4 = lo(h.cr4); c.efer = lo(h.efer);
  [h.es, h.cs, h.ss, h.ds, h.fs, h.gs].forEach((s, i) => c.setSegmentRaw(i, s.selector, lo(s.base), hi(s.base), s.limit, s.attributes));
  c.gdtrBaseLo = lo(h.gdtr.base); c.gdtrBaseHi = hi(h.gdtr.base); c.gdtrLimit = h.gdtr.limit;
  c.idtrBaseLo = lo(h.idtr.base); c.idtrBaseHi = hi(h.idtr.base); c.idtrLimit = h.idtr.limit;
  c.setRflags(Number(h.rflags));
  c.setRip(h.rip);
  c.updateMode();
  c.flushTlb();
  c.blocks.flush();
}
