// A page walk for people, not for the CPU: translate a linear address the
// way the guest's current paging would, reading the tables without setting
// accessed/dirty bits or raising faults, and keep every step (table, slot,
// entry, what it says) so a debugger can show it. Modes: paging off,
// 32-bit (4 KiB and 4 MiB pages), PAE, 4-level and 5-level.
import { PagingMode, type Cpu } from '../../emulator/index.ts';

export interface WalkStep {
  /** PML5, PML4, PDPT, PD or PT. */
  table: string;
  /** Physical address of the entry read. */
  entryAddr: number;
  index: number;
  /** The entry (8 bytes, or 4 in 32-bit paging). */
  entry: bigint;
  /** Flags that matter here, spelled out: P RW US A D PS G NX. */
  flags: string;
}

export interface PageWalk {
  linear: bigint;
  mode: string;
  steps: WalkStep[];
  /** The physical address, or null when the walk stops at a not-present or reserved entry. */
  phys: number | null;
  /** Why there is no translation (not present, non-canonical…). */
  problem?: string;
  /** Page size of the final mapping in bytes. */
  pageSize?: number;
  writable?: boolean;
  user?: boolean;
  nx?: boolean;
}

const P = 1n, RW = 2n, US = 4n, A = 0x20n, D = 0x40n, PS = 0x80n, G = 0x100n, NX = 1n << 63n;

function flagText(e: bigint, leaf: boolean): string {
  const f: string[] = [];
  if (e & P) f.push('P'); if (e & RW) f.push('RW'); if (e & US) f.push('US'); if (e & A) f.push('A');
  if (leaf && (e & D)) f.push('D'); if (e & PS) f.push('PS'); if (leaf && (e & G)) f.push('G'); if (e & NX) f.push('NX');
  return f.join(' ');
}

/** Walk `linear` through the tables CR3 names; `read` reads guest-physical bytes. */
export function pageWalk(c: Cpu, linear: bigint, read: (addr: number, len: number) => Uint8Array): PageWalk {
  const lin = BigInt.asUintN(64, linear);
  const rd = (addr: number, n: 4 | 8): bigint => {
    const b = read(addr, n);
    let v = 0n;
    for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
    return v;
  };
  const cr3 = (BigInt(c.cr3Hi >>> 0) << 32n) | BigInt(c.cr3Lo >>> 0);
  const mode = c.pagingMode as number;
  if (mode === PagingMode.None) {
    const long = c.codeBits === 64 || (c.efer & 0x400) !== 0;
    return { linear: lin, mode: 'paging off', steps: [], phys: long ? Number(lin) : Number(lin & 0xffffffffn), pageSize: 4096, writable: true, user: true, nx: false };
  }
  const steps: WalkStep[] = [];
  if (mode === PagingMode.Legacy32) {
    if (lin > 0xffffffffn) return { linear: lin, mode: '32-bit', steps, phys: null, problem: 'above 4 GiB in 32-bit paging' };
    const pdeAddr = Number((cr3 & 0xfffff000n) + ((lin >> 22n) << 2n));
    const pde = rd(pdeAddr, 4);
    const big = (pde & PS) !== 0n && (c.cr4 & 0x10) !== 0;
    steps.push({ table: 'PD', entryAddr: pdeAddr, index: Number(lin >> 22n), entry: pde, flags: flagText(pde, big) });
    if (!(pde & P)) return { linear: lin, mode: '32-bit', steps, phys: null, problem: 'PDE not present' };
    if (big) {
      const base = ((pde >> 13n) & 0xffn) << 32n | (pde & 0xffc00000n);
      return { linear: lin, mode: '32-bit', steps, phys: Number(base + (lin & 0x3fffffn)), pageSize: 4 << 20, writable: (pde & RW) !== 0n, user: (pde & US) !== 0n, nx: false };
    }
    const pteAddr = Number((pde & 0xfffff000n) + (((lin >> 12n) & 0x3ffn) << 2n));
    const pte = rd(pteAddr, 4);
    steps.push({ table: 'PT', entryAddr: pteAddr, index: Number((lin >> 12n) & 0x3ffn), entry: pte, flags: flagText(pte, true) });
    if (!(pte & P)) return { linear: lin, mode: '32-bit', steps, phys: null, problem: 'PTE not present' };
    return { linear: lin, mode: '32-bit', steps, phys: Number((pte & 0xfffff000n) + (lin & 0xfffn)), pageSize: 4096, writable: (pde & pte & RW) !== 0n, user: (pde & pte & US) !== 0n, nx: false };
  }
  const addrMask = 0x000ffffffffff000n;
  let levels: { name: string; shift: bigint }[];
  let table: bigint;
  let modeName: string;
  if (mode === PagingMode.Pae) {
    if (lin > 0xffffffffn) return { linear: lin, mode: 'PAE', steps, phys: null, problem: 'above 4 GiB in PAE paging' };
    const pdptAddr = Number((cr3 & 0xffffffe0n) + ((lin >> 30n) << 3n));
    const e = rd(pdptAddr, 8);
    steps.push({ table: 'PDPT', entryAddr: pdptAddr, index: Number(lin >> 30n), entry: e, flags: flagText(e, false) });
    if (!(e & P)) return { linear: lin, mode: 'PAE', steps, phys: null, problem: 'PDPTE not present' };
    table = e & addrMask;
    levels = [{ name: 'PD', shift: 21n }, { name: 'PT', shift: 12n }];
    modeName = 'PAE';
  } else {
    const five = mode === PagingMode.Level5;
    const top = five ? lin >> 56n : lin >> 47n;
    if (top !== 0n && top !== (five ? 0xffn : 0x1ffffn)) return { linear: lin, mode: five ? '5-level' : '4-level', steps, phys: null, problem: 'non-canonical address' };
    table = cr3 & addrMask;
    levels = [{ name: 'PML4', shift: 39n }, { name: 'PDPT', shift: 30n }, { name: 'PD', shift: 21n }, { name: 'PT', shift: 12n }];
    if (five) levels.unshift({ name: 'PML5', shift: 48n });
    modeName = five ? '5-level' : '4-level';
  }
  let rw = true, us = true, nx = false;
  for (const lv of levels) {
    const index = Number((lin >> lv.shift) & 0x1ffn);
    const entryAddr = Number(table) + index * 8;
    const e = rd(entryAddr, 8);
    const large = (e & PS) !== 0n && (lv.name === 'PD' || lv.name === 'PDPT');
    steps.push({ table: lv.name, entryAddr, index, entry: e, flags: flagText(e, large || lv.name === 'PT') });
    if (!(e & P)) return { linear: lin, mode: modeName, steps, phys: null, problem: `${lv.name} entry not present` };
    rw &&= (e & RW) !== 0n; us &&= (e & US) !== 0n; nx ||= (e & NX) !== 0n && (c.efer & 0x800) !== 0;
    if (large || lv.name === 'PT') {
      const size = 1n << lv.shift;
      const base = e & addrMask & ~(size - 1n);
      return { linear: lin, mode: modeName, steps, phys: Number(base + (lin & (size - 1n))), pageSize: Number(size), writable: rw, user: us, nx };
    }
    table = e & addrMask;
  }
  return { linear: lin, mode: modeName, steps, phys: null, problem: 'walk did not end' };
}

/** The walk as text, one line per step. */
export function formatPageWalk(w: PageWalk): string {
  const hex = (v: bigint | number) => `0x${v.toString(16)}`;
  const lines = [`${hex(w.linear)}: ${w.mode}`];
  for (const s of w.steps) lines.push(`  ${s.table.padEnd(4)}[${String(s.index).padStart(3)}] at ${hex(s.entryAddr)} = ${hex(s.entry).padStart(18)}  ${s.flags}`);
  if (w.phys === null) lines.push(`  → no translation: ${w.problem}`);
  else lines.push(`  → physical ${hex(w.phys)} (${w.pageSize! >= 1 << 30 ? '1 GiB' : w.pageSize! >= 1 << 21 ? (w.pageSize! === 4 << 20 ? '4 MiB' : '2 MiB') : '4 KiB'} page${w.writable ? ', writable' : ', read-only'}${w.user ? ', user' : ''}${w.nx ? ', no-execute' : ''})`);
  return lines.join('\n');
}
