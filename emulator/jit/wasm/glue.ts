// The JS side of the slow path, shared by block and region functions: the
// imports a memory access calls when the inline TLB check misses. They go
// through the Cpu's own accessors (page walk, TLB fill, devices, write
// records); a fault is caught and reported through the state area (a JS
// exception must not unwind the Wasm frame, which holds the registers).
import type { Cpu } from '../../cpu.ts';
import type { Insn } from '../../insn.ts';
import { CpuFault } from '../../fault.ts';
import { FAULT, STOP, OUT_HI } from './machine.ts';
import { stackCanonical } from '../../ops/stack.ts';

/** The size bit of rd/wr for a push or pop: a non-canonical address is #SS (ops/stack.ts stackCanonical). */
export const STACK_ACCESS = 512;

/** Calls of the imports since start (statistics: accesses that missed the inline TLB check, handler calls). */
export const importCalls = { rd: 0, wr: 0, call: 0 };

/**
 * Whether nothing asks the run loop to look between blocks (no per-block
 * hook, step limit, debug registers or TF): a looping block or a region may
 * then go on by itself up to its budget.
 */
export function chainReady(c: Cpu): boolean {
  return c.beforeBlock === null && c.stepLimit === 0 && c.dbg === 0 && (c.flagsSys & 0x100) === 0;
}

/** Where the imports leave a caught fault for the wrapper to rethrow. */
export interface FaultBox { fault: CpuFault | null }

/** Record a CpuFault in `box`; anything else is a bug and propagates. */
export function catchFault(box: FaultBox, e: unknown): void {
  if (!(e instanceof CpuFault)) throw e;
  box.fault = e;
}

/**
 * rd(kind, lo, hi, pos): read 8/16/32/64 bits (kind | 256: translated for a
 * write, as readRmw*; | STACK_ACCESS: a push or pop), the high half of 64 in OUT_HI; a fault sets FAULT.
 * wr(size, lo, hi, vlo, vhi, pos): 0, 1 when the write reached code
 * (blockExit), 2 on a fault. `at(pos)` names the instruction (c.cur) and
 * `sync` makes c.icount exact before anything can look at it.
 */
export function memoryImports(c: Cpu, s: Int32Array, at: (pos: number) => Insn, sync: () => void, box: FaultBox) {
  return {
    rd(kind: number, lo: number, hi: number, pos: number): number {
      importCalls.rd++;
      c.cur = at(pos); sync();
      try {
        if (kind & STACK_ACCESS) { stackCanonical(c, lo, hi); kind &= ~STACK_ACCESS; }
        let v: number;
        switch (kind) {
          case 8: v = c.read8(lo, hi); break;
          case 16: v = c.read16(lo, hi); break;
          case 32: v = c.read32(lo, hi); break;
          case 64: v = c.read64(lo, hi); s[OUT_HI / 4] = c.outHi; break;
          case 256 + 8: v = c.readRmw8(lo, hi); break;
          case 256 + 16: v = c.readRmw16(lo, hi); break;
          case 256 + 32: v = c.readRmw32(lo, hi); break;
          default: v = c.readRmw64(lo, hi); s[OUT_HI / 4] = c.outHi; break;
        }
        if (c.stopRequested) s[STOP / 4] = 1;
        return v;
      } catch (e) { catchFault(box, e); s[FAULT / 4] = 1; return 0; }
    },
    wr(size: number, lo: number, hi: number, v: number, vh: number, pos: number): number {
      importCalls.wr++;
      c.cur = at(pos); sync();
      try {
        if (size & STACK_ACCESS) { stackCanonical(c, lo, hi); size &= ~STACK_ACCESS; }
        switch (size) {
          case 8: c.write8(lo, hi, v); break;
          case 16: c.write16(lo, hi, v); break;
          case 32: c.write32(lo, hi, v); break;
          default: c.write64(lo, hi, v, vh); break;
        }
      } catch (e) { catchFault(box, e); return 2; }
      if (c.stopRequested || c.blockExit) s[STOP / 4] = 1;
      return c.blockExit ? 1 : 0;
    },
  };
}
