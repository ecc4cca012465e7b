// A plain snapshot of the architectural state, for reports (triple fault,
// hang, budget) and state dumps. bigint is fine here: it is off the hot path.
import type { Cpu } from './cpu.ts';
import { GPR_NAMES, SEG_NAMES, PagingMode } from './regs.ts';

export interface SegmentState { name: string; sel: number; base: bigint; limit: number; attr: number }
export interface TableState { base: bigint; limit: number }

export interface CpuState {
  gpr: Record<string, bigint>;
  rip: bigint;
  rflags: number;
  cr0: number; cr2: bigint; cr3: bigint; cr4: number; cr8: number; efer: number;
  segments: SegmentState[];
  gdtr: TableState; idtr: TableState;
  ldtr: SegmentState; tr: SegmentState;
  cpl: number;
  /** real, protected16, protected32, long64, compat32, compat16, vm86 */
  mode: string;
  paging: string;
  icount: number;
}

function u64(lo: number, hi: number): bigint { return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0); }

export function modeName(c: Cpu): string {
  if (!(c.cr0 & 1)) return 'real';
  if (c.flagsSys & 0x20000) return 'vm86';
  if (c.efer & 0x400) return c.codeBits === 64 ? 'long64' : `compat${c.codeBits}`;
  return `protected${c.codeBits}`;
}

const PAGING = ['off', '32-bit', 'PAE', '4-level', '5-level'];

export function captureState(c: Cpu): CpuState {
  const gpr: Record<string, bigint> = {};
  for (let r = 0; r < 16; r++) gpr[GPR_NAMES[r]!] = c.getReg(r);
  const segments: SegmentState[] = [];
  for (let s = 0; s < 6; s++) segments.push({ name: SEG_NAMES[s]!, sel: c.segSel[s]! & 0xffff, base: u64(c.segBaseLo[s]!, c.segBaseHi[s]!), limit: c.segLimit[s]! >>> 0, attr: c.segAttr[s]! });
  return {
    gpr, rip: c.getRip(), rflags: c.getRflags(),
    cr0: c.cr0 >>> 0, cr2: c.getCr2(), cr3: c.getCr3(), cr4: c.cr4 >>> 0, cr8: c.cr8, efer: c.efer >>> 0,
    segments,
    gdtr: { base: u64(c.gdtrBaseLo, c.gdtrBaseHi), limit: c.gdtrLimit >>> 0 },
    idtr: { base: u64(c.idtrBaseLo, c.idtrBaseHi), limit: c.idtrLimit >>> 0 },
    ldtr: { name: 'ldtr', sel: c.ldtrSel & 0xffff, base: u64(c.ldtrBaseLo, c.ldtrBaseHi), limit: c.ldtrLimit >>> 0, attr: c.ldtrAttr },
    tr: { name: 'tr', sel: c.trSel & 0xffff, base: u64(c.trBaseLo, c.trBaseHi), limit: c.trLimit >>> 0, attr: c.trAttr },
    cpl: c.cpl, mode: modeName(c), paging: PAGING[c.pagingMode as PagingMode] ?? '?', icount: c.icount,
  };
}

function h(v: bigint | number, w = 16): string { return BigInt.asUintN(64, BigInt(v)).toString(16).padStart(w, '0'); }

/** A xenctx-like text dump. */
export function formatState(s: CpuState): string {
  const lines: string[] = [];
  const g = GPR_NAMES.map((n) => `${n.padStart(3)}: ${h(s.gpr[n]!)}`);
  for (let k = 0; k < 16; k += 4) lines.push(g.slice(k, k + 4).join('  '));
  lines.push(`rip: ${h(s.rip)}  rflags: ${h(s.rflags, 8)}  cpl: ${s.cpl}  mode: ${s.mode}  paging: ${s.paging}`);
  lines.push(`cr0: ${h(s.cr0, 8)}  cr2: ${h(s.cr2)}  cr3: ${h(s.cr3)}  cr4: ${h(s.cr4, 8)}  cr8: ${s.cr8}  efer: ${h(s.efer, 8)}`);
  for (const seg of [...s.segments, s.ldtr, s.tr]) lines.push(`${seg.name.padStart(4)}: ${h(seg.sel, 4)} base ${h(seg.base)} limit ${h(seg.limit, 8)} attr ${h(seg.attr, 4)}`);
  lines.push(`gdtr: ${h(s.gdtr.base)} limit ${h(s.gdtr.limit, 4)}  idtr: ${h(s.idtr.base)} limit ${h(s.idtr.limit, 4)}`);
  lines.push(`instructions retired: ${s.icount}`);
  return lines.join('\n') + '\n';
}
