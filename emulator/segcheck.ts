// Per-access checks that only apply when Cpu.checks is non-zero: segment
// limits and types in real, protected and compatibility modes (non-flat
// segments only), and alignment checking (#AC). Flat segments and 64-bit
// code never get here, so the common paths pay nothing.
// References: Intel SDM Vol. 3A 5.3 (limit checking, expand-down segments),
// 5.4-5.5 (type checking), 6.15 interrupt 12 (#SS(0) for SS limit
// violations) and 17 (#AC), Vol. 2 "Protected Mode Exceptions" of any
// instruction with a memory operand.
import type { Cpu } from './cpu.ts';
import { MEM_READ, MEM_WRITE, MEM_UNRESOLVED, type Insn } from './insn.ts';
import { resolveMemAccess } from './decode.ts';
import { CpuFault, Vector } from './fault.ts';
import { Seg, CR0_PE, ATTR_P, ATTR_DB, CHECK_AC, CHECK_DBG } from './regs.ts';
import { watch } from './debugregs.ts';

const SEG = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

function segFault(s: number, why: string): CpuFault {
  return new CpuFault(s === Seg.SS ? Vector.SS : Vector.GP, 0, `${SEG[s]}: ${why}`);
}

/**
 * Check an access of `size` bytes at offset `off` (uint32) in segment `s`:
 * #GP(0), or #SS(0) for SS, when it lies outside the limit (expand-up:
 * off..off+size-1 <= limit; expand-down: above the limit, up to 0xffff or
 * 0xffffffff by the B bit), or when the segment is unusable or of the wrong
 * type (write to code or read-only data, read of execute-only code).
 */
export function checkSegment(c: Cpu, s: number, off: number, size: number, access: number): void {
  const attr = c.segAttr[s]!;
  const limit = c.segLimit[s]! >>> 0;
  const last = off + size - 1;
  const protectedMode = (c.cr0 & CR0_PE) !== 0 && (c.flagsSys & 0x20000) === 0;
  if (protectedMode) {
    if (!(attr & ATTR_P)) throw segFault(s, 'access through a null or unusable segment');
    if (attr & 8) { // code
      if (access & MEM_WRITE) throw segFault(s, 'write to a code segment');
      if ((access & MEM_READ) && !(attr & 2)) throw segFault(s, 'read of an execute-only code segment');
    } else {
      if ((access & MEM_WRITE) && !(attr & 2)) throw segFault(s, 'write to a read-only data segment');
      if (attr & 4) { // expand-down
        const upper = attr & ATTR_DB ? 0xffffffff : 0xffff;
        if (off <= limit || last > upper) throw segFault(s, `offset 0x${off.toString(16)} (${size} bytes) outside expand-down limit 0x${limit.toString(16)}`);
        return;
      }
    }
  }
  if (last > limit) throw segFault(s, `offset 0x${off.toString(16)} (${size} bytes) beyond the limit 0x${limit.toString(16)}`);
}

/** #AC(0) for a misaligned access of `size` bytes at linear address lo (alignment = size, 8 at most). */
export function checkAlignment(lo: number, size: number): void {
  const align = size >= 8 ? 8 : size === 6 ? 4 : size;
  if (align > 1 && (lo & (align - 1)) !== 0) throw new CpuFault(Vector.AC, 0, `misaligned ${size}-byte access at 0x${(lo >>> 0).toString(16)}`);
}

/**
 * The checked tail of ea(): c.eaLo/c.eaHi hold the offset; check the
 * segment (when it is not flat, or CS), add the base, check alignment.
 */
export function checkedEa(c: Cpu, i: Insn, seg: number): void {
  if ((c.checks & CHECK_DBG) && (i.mflags & MEM_UNRESOLVED)) resolveMemAccess(i);
  checkedLinear(c, seg, i.msize, i.mflags & (MEM_READ | MEM_WRITE));
}

/** checkedEa for an access of `size` bytes (0: unchecked) and kind `access` (MEM_READ | MEM_WRITE). */
export function checkedLinear(c: Cpu, seg: number, size: number, access: number): void {
  if (seg >= 0) {
    if (size !== 0 && access !== 0 && ((c.checks >> seg) & 1 || seg === Seg.CS) && c.codeBits !== 64) checkSegment(c, seg, c.eaLo >>> 0, size, access);
    const sum = (c.eaLo >>> 0) + (c.segBaseLo[seg]! >>> 0);
    c.eaLo = sum | 0;
    if (c.codeBits === 64) c.eaHi = (c.eaHi + c.segBaseHi[seg]! + (sum > 0xffffffff ? 1 : 0)) | 0;
    else c.eaHi = 0;
  }
  if ((c.checks & CHECK_AC) && size !== 0 && size <= 10 && access !== 0) checkAlignment(c.eaLo, size);
  if ((c.checks & CHECK_DBG) && size !== 0 && access !== 0) watch(c, c.eaLo, c.eaHi, size, access);
}

/** A stack access of `size` bytes at SS offset `off` in legacy/compatibility code (c.checks != 0). */
export function checkStack(c: Cpu, off: number, size: number, access: number): void {
  if ((c.checks >> Seg.SS) & 1) checkSegment(c, Seg.SS, off >>> 0, size, access);
  const lin = (off + c.segBaseLo[Seg.SS]!) | 0;
  if (c.checks & CHECK_AC) checkAlignment(lin, size);
  if (c.checks & CHECK_DBG) watch(c, lin, 0, size, access);
}

/** A 64-bit stack access of `size` bytes at linear (lo, hi) (c.checks != 0): alignment and data breakpoints. */
export function checkStack64(c: Cpu, lo: number, hi: number, size: number, access: number): void {
  if (c.checks & CHECK_AC) checkAlignment(lo, size);
  if (c.checks & CHECK_DBG) watch(c, lo, hi, size, access);
}
