// Implicit system accesses: descriptor tables, the TSS, the IDT and the
// stacks written by interrupt delivery. They translate without the TLB
// (so an entry filled here can never satisfy a later user-mode access) and
// as supervisor accesses when asked, whatever the CPL.
import type { Cpu } from './cpu.ts';
import { translate, Access } from './mmu.ts';

/** Translate a linear address with the U/S check done at `cpl`. */
function tr(c: Cpu, lo: number, hi: number, access: Access, cpl: number): number {
  const save = c.cpl;
  c.cpl = cpl;
  try { return translate(c, lo, hi, access); } finally { c.cpl = save; }
}

function add(lo: number, hi: number, n: number): [number, number] {
  const s = (lo >>> 0) + n;
  return [s | 0, (hi + (s > 0xffffffff ? 1 : 0)) | 0];
}

/** Read `size` bytes (1, 2, 4) at a linear address as a supervisor access (cpl 0) unless told. Unsigned for 1/2, signed int32 for 4. */
export function sysRead(c: Cpu, lo: number, hi: number, size: number, cpl = 0): number {
  if ((lo & 0xfff) + size <= 0x1000) {
    const p = tr(c, lo, hi, Access.Read, cpl);
    return c.physRead(p, size);
  }
  let v = 0;
  const phys: number[] = [];
  for (let k = 0; k < size; k++) { const [a, ah] = add(lo, hi, k); phys.push(tr(c, a, ah, Access.Read, cpl)); }
  for (let k = size - 1; k >= 0; k--) v = (v << 8) | c.physRead(phys[k]!, 1);
  return size === 4 ? v | 0 : v;
}

/** Write `size` bytes (1, 2, 4) at a linear address (supervisor unless told). */
export function sysWrite(c: Cpu, lo: number, hi: number, size: number, v: number, cpl = 0): void {
  if ((lo & 0xfff) + size <= 0x1000) {
    c.physWrite(tr(c, lo, hi, Access.Write, cpl), size, v);
    return;
  }
  const phys: number[] = [];
  for (let k = 0; k < size; k++) { const [a, ah] = add(lo, hi, k); phys.push(tr(c, a, ah, Access.Write, cpl)); }
  for (let k = 0; k < size; k++) c.physWrite(phys[k]!, 1, (v >>> (8 * k)) & 0xff);
}

/** Check that `size` bytes at a linear address are writable (so a multi-part push cannot stop half done). */
export function sysProbeWrite(c: Cpu, lo: number, hi: number, size: number, cpl = 0): void {
  tr(c, lo, hi, Access.Write, cpl);
  const [a, ah] = add(lo, hi, size - 1);
  tr(c, a, ah, Access.Write, cpl);
}

export { add as addLinear };
