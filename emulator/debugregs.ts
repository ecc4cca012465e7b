// Debug registers as the CPU uses them: instruction breakpoints (fault-class
// #DB before the instruction, suppressed by RFLAGS.RF) and data breakpoints
// (trap-class #DB after the instruction that wrote, or read or wrote, the
// watched bytes), reported in DR6.B0-B3. Single-step (DR6.BS) is in run.ts.
// While a breakpoint is enabled the run loop executes one instruction at a
// time and data accesses take the checked path (Cpu.checks & CHECK_DBG), so
// nothing is paid when DR7 enables none.
// Reference: Intel SDM Vol. 3A 18.2 (DR0-DR7), 18.3.1 (debug exception conditions).
import type { Cpu } from './cpu.ts';
import { MEM_WRITE } from './insn.ts';

/** Debug registers as 64-bit halves: c.dr's storage viewed as 8 (lo, hi) pairs (exact for any 64-bit value). */
export function drWords(c: Cpu): Int32Array { return new Int32Array(c.dr.buffer, c.dr.byteOffset, 16); }

/** Recompute c.dbg from DR7: bit n = instruction breakpoint n enabled, bit 4+n = data breakpoint n enabled. */
export function updateDebug(c: Cpu): void {
  const dr7 = drWords(c)[14]!;
  let m = 0;
  for (let n = 0; n < 4; n++) {
    if (!((dr7 >>> (2 * n)) & 3)) continue;
    const rw = (dr7 >>> (16 + 4 * n)) & 3;
    if (rw === 0) m |= 1 << n;
    else if (rw === 1 || rw === 3) m |= 1 << (4 + n); // rw 2 (I/O) is not modelled
  }
  c.dbg = m;
  c.updateChecks();
}

/** Bytes covered by breakpoint n (LEN 00: 1, 01: 2, 11: 4, 10: 8). */
function bpLen(dr7: number, n: number): number {
  const len = (dr7 >>> (18 + 4 * n)) & 3;
  return len === 0 ? 1 : len === 1 ? 2 : len === 3 ? 4 : 8;
}

/** Instruction breakpoints matching the linear address (lo, hi): a DR6 B0-B3 mask. */
export function execBreakpoints(c: Cpu, lo: number, hi: number): number {
  const w = drWords(c);
  let hit = 0;
  for (let n = 0; n < 4; n++) {
    if ((c.dbg >> n) & 1 && w[2 * n] === lo && w[2 * n + 1] === hi) hit |= 1 << n;
  }
  return hit;
}

/** A data access of `size` bytes at linear (lo, hi): record the data breakpoints it hits in c.dbgHit. */
export function watch(c: Cpu, lo: number, hi: number, size: number, access: number): void {
  const w = drWords(c), dr7 = w[14]!;
  for (let n = 0; n < 4; n++) {
    if (!((c.dbg >> (4 + n)) & 1)) continue;
    const rw = (dr7 >>> (16 + 4 * n)) & 3;
    if (rw === 1 && !(access & MEM_WRITE)) continue;
    const len = bpLen(dr7, n);
    if (w[2 * n + 1] !== hi) continue;
    const start = (w[2 * n]! & ~(len - 1)) >>> 0, a = lo >>> 0;
    if (a < start + len && start < a + size) c.dbgHit |= 1 << n;
  }
}
