// System instructions, registered into the dispatch table at load time:
// descriptor-table registers, control/debug registers, MSRs, CPUID, the TSC,
// RDRAND/RDSEED, interrupts (int n, int3, into, int1, cli/sti, hlt), cache
// and TLB maintenance, swapgs, the x87 control words, xgetbv/xsetbv. Far
// transfers and segment loads are in far.ts, port I/O in io.ts.
import { drWords, updateDebug } from '../debugregs.ts';
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { extendTable, FORM_ENDS_BLOCK, FORM_STRING, type Entry } from '../table.ts';
import { gp, ud, CpuFault, Vector } from '../fault.ts';
import { Seg, CR0_EM, CR0_TS, CR0_PE, CR0_MP } from '../regs.ts';
import { setArithFlags, arithFlags, CF, ZF, getOF } from '../flags.ts';
import { ea, getReg, readA, readARmw, setReg, writeA } from './operands.ts';
import { loadLdt, loadTr } from '../segments.ts';
import { writeCr0, writeCr3, writeCr4, writeCr8, flushTranslations } from '../control.ts';
import { readMsr, writeMsr, readTsc, MSR_TSC_AUX, XCR0_KEY } from '../msr.ts';
import { deliver, EventKind } from '../interrupts.ts';
import { addLinear } from '../sysmem.ts';
import { jmpFarPtr, jmpFarMem, callFarPtr, callFarMem, retFar, iret, movToSreg, movFromSreg, pushSreg, popSreg, loadFarPointer } from './far.ts';
import { inOp, outOp, ins, outs } from './io.ts';

const IF = 0x200, VM = 0x20000;

function cpl0(c: Cpu, what: string): void {
  if (c.cpl !== 0) throw gp(0, `${what} at CPL ${c.cpl}`);
}

/** hlt: stop until an interrupt (the run loop reports Stop.Halt). */
export function hlt(c: Cpu, _i: Insn): void {
  cpl0(c, 'hlt');
  c.halted = true;
  c.blockExit = true;
}

// ---- Descriptor-table registers ----

/** lgdt/lidt (op 0 gdt, 1 idt): limit then base (24 bits with 16-bit operands, 32, or 64 in 64-bit mode). */
function lgdt(c: Cpu, i: Insn): void {
  cpl0(c, i.op ? 'lidt' : 'lgdt');
  ea(c, i);
  const aLo = c.eaLo, aHi = c.eaHi;
  const limit = c.read16(aLo, aHi);
  const [bLo, bHi] = addLinear(aLo, aHi, 2);
  let baseLo: number, baseHi = 0;
  if (c.codeBits === 64) { baseLo = c.read64(bLo, bHi); baseHi = c.outHi; }
  else { baseLo = c.read32(bLo, bHi); if (i.size === 16) baseLo &= 0xffffff; }
  if (i.op) { c.idtrLimit = limit; c.idtrBaseLo = baseLo; c.idtrBaseHi = baseHi; }
  else { c.gdtrLimit = limit; c.gdtrBaseLo = baseLo; c.gdtrBaseHi = baseHi; }
}

/** sgdt/sidt. */
function sgdt(c: Cpu, i: Insn): void {
  ea(c, i);
  const aLo = c.eaLo, aHi = c.eaHi;
  const limit = i.op ? c.idtrLimit : c.gdtrLimit;
  const lo = i.op ? c.idtrBaseLo : c.gdtrBaseLo, hi = i.op ? c.idtrBaseHi : c.gdtrBaseHi;
  const [bLo, bHi] = addLinear(aLo, aHi, 2);
  // Check the whole destination before writing any of it.
  const [eLo, eHi] = addLinear(aLo, aHi, c.codeBits === 64 ? 9 : 5);
  c.readRmw8(eLo, eHi);
  c.write16(aLo, aHi, limit);
  if (c.codeBits === 64) c.write64(bLo, bHi, lo, hi);
  else c.write32(bLo, bHi, lo);
}

/** lldt (op 0) / ltr (op 1). */
function lldtLtr(c: Cpu, i: Insn): void {
  if (!(c.cr0 & CR0_PE) || (c.flagsSys & VM)) throw ud(i.op ? 'ltr outside protected mode' : 'lldt outside protected mode');
  cpl0(c, i.op ? 'ltr' : 'lldt');
  const sel = readA(c, i, 16) & 0xffff;
  if (i.op) loadTr(c, sel); else loadLdt(c, sel);
}

/**
 * arpl r/m16, r16: 63 /r outside 64-bit mode (compatibility mode included;
 * 64-bit mode decodes it as movsxd). Raises the destination selector's RPL
 * to the source's, setting ZF if it did; only bits 1:0 of the destination
 * change, whatever the operand size (SDM Vol. 2A ARPL; APM Vol. 3 ARPL).
 */
function arpl(c: Cpu, i: Insn): void {
  if (!(c.cr0 & CR0_PE) || (c.flagsSys & VM)) throw ud('arpl outside protected mode');
  const d = readARmw(c, i, 16), s = getReg(c, i.b, 16);
  const raise = (d & 3) < (s & 3);
  if (raise) writeA(c, i, 16, (d & ~3) | (s & 3), 0);
  setArithFlags(c, (arithFlags(c) & ~ZF) | (raise ? ZF : 0));
}

/** sldt (op 0) / str (op 1): a register gets the selector zero-extended, memory 16 bits. */
function sldtStr(c: Cpu, i: Insn): void {
  if (!(c.cr0 & CR0_PE) || (c.flagsSys & VM)) throw ud('sldt/str outside protected mode');
  const v = (i.op ? c.trSel : c.ldtrSel) & 0xffff;
  if (i.a >= 0) setReg(c, i.a, i.size, v, 0);
  else { ea(c, i); c.write16(c.eaLo, c.eaHi, v); }
}

function smsw(c: Cpu, i: Insn): void {
  if (i.a >= 0) setReg(c, i.a, i.size, c.cr0, 0);
  else { ea(c, i); c.write16(c.eaLo, c.eaHi, c.cr0 & 0xffff); }
}

/** lmsw: loads PE, MP, EM, TS; cannot clear PE. */
function lmsw(c: Cpu, i: Insn): void {
  cpl0(c, 'lmsw');
  const v = readA(c, i, 16);
  const nv = (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE);
  writeCr0(c, nv, 0);
}

function clts(c: Cpu, _i: Insn): void {
  cpl0(c, 'clts');
  c.cr0 &= ~CR0_TS;
}

// ---- Control and debug registers ----

/** mov cr, r (a = CR index, b = GPR). */
function movToCr(c: Cpu, i: Insn): void {
  cpl0(c, 'mov to CR');
  const lo = c.lo[i.b]!, hi = i.size === 64 ? c.hi[i.b]! : 0;
  switch (i.a) {
    case 0: writeCr0(c, lo, hi); break;
    case 2: c.cr2Lo = lo; c.cr2Hi = hi; break;
    case 3: writeCr3(c, lo, hi); break;
    case 4: writeCr4(c, lo, hi); break;
    case 8: writeCr8(c, lo, hi); break;
    default: throw ud(`mov to CR${i.a}`);
  }
  c.blockExit = true;
}

/** mov r, cr (a = GPR, b = CR index). */
function movFromCr(c: Cpu, i: Insn): void {
  cpl0(c, 'mov from CR');
  let lo: number, hi = 0;
  switch (i.b) {
    case 0: lo = c.cr0; break;
    case 2: lo = c.cr2Lo; hi = c.cr2Hi; break;
    case 3: lo = c.cr3Lo; hi = c.cr3Hi; break;
    case 4: lo = c.cr4; break;
    case 8: lo = c.cr8; break;
    default: throw ud(`mov from CR${i.b}`);
  }
  setReg(c, i.a, i.size, lo, i.size === 64 ? hi : 0);
}


function drIndex(c: Cpu, n: number): number {
  if (n === 4 || n === 5) { if (c.cr4 & 8) throw ud(`DR${n} with CR4.DE set`); return n + 2; }
  if (n > 7) throw ud(`DR${n}`);
  return n;
}

function movToDr(c: Cpu, i: Insn): void {
  cpl0(c, 'mov to DR');
  const n = drIndex(c, i.a);
  let lo = c.lo[i.b]!, hi = i.size === 64 ? c.hi[i.b]! : 0;
  if ((n === 6 || n === 7) && hi !== 0) throw gp(0, `DR${n} bits 63:32 must be zero`);
  if (n === 6) lo = (lo | 0xffff0ff0) & ~0x1000;
  if (n === 7) lo = (lo | 0x400) & ~0xd000;
  if (n < 4 && i.size !== 64) hi = 0;
  const w = drWords(c);
  w[2 * n] = lo; w[2 * n + 1] = hi;
  if (n !== 6) updateDebug(c);
  c.blockExit = true; // the run loop steps one instruction at a time while breakpoints are enabled
}

function movFromDr(c: Cpu, i: Insn): void {
  cpl0(c, 'mov from DR');
  const n = drIndex(c, i.b);
  const w = drWords(c);
  let lo = w[2 * n]!;
  if (n === 6) lo |= 0xffff0ff0 | 0;
  if (n === 7) lo |= 0x400;
  setReg(c, i.a, i.size, lo, i.size === 64 ? w[2 * n + 1]! : 0);
}

// ---- MSRs, CPUID, time, randomness ----

function rdmsr(c: Cpu, _i: Insn): void {
  cpl0(c, 'rdmsr');
  const v = readMsr(c, c.lo[1]!);
  setReg(c, 0, 32, Number(v & 0xffffffffn) | 0, 0);
  setReg(c, 2, 32, Number(v >> 32n) | 0, 0);
}

function wrmsr(c: Cpu, _i: Insn): void {
  cpl0(c, 'wrmsr');
  const v = (BigInt(c.lo[2]! >>> 0) << 32n) | BigInt(c.lo[0]! >>> 0);
  writeMsr(c, c.lo[1]!, v);
  c.blockExit = true;
}

const cpuidOut = new Int32Array(4);

function cpuid(c: Cpu, _i: Insn): void {
  c.cpuidModel.cpuid(c.lo[0]! >>> 0, c.lo[1]! >>> 0, cpuidOut);
  setReg(c, 0, 32, cpuidOut[0]!, 0);
  setReg(c, 3, 32, cpuidOut[1]!, 0);
  setReg(c, 1, 32, cpuidOut[2]!, 0);
  setReg(c, 2, 32, cpuidOut[3]!, 0);
}

function hasFeature(c: Cpu, leaf: number, reg: number, bit: number): boolean {
  c.cpuidModel.cpuid(leaf, 0, cpuidOut);
  return (cpuidOut[reg]! & (1 << bit)) !== 0;
}

/** rdtsc: the virtual clock (instructions retired at the start of this block × ticks per instruction). */
function rdtsc(c: Cpu, i: Insn): void {
  if ((c.cr4 & 4) && c.cpl !== 0) throw gp(0, 'rdtsc with CR4.TSD at CPL > 0');
  const t = readTsc(c);
  setReg(c, 0, 32, Number(t & 0xffffffffn) | 0, 0);
  setReg(c, 2, 32, Number(t >> 32n) | 0, 0);
  if (i.op === 1) {
    if (!hasFeature(c, 0x80000001 | 0, 3, 27)) throw ud('rdtscp not in the CPUID model');
    setReg(c, 1, 32, Number((c.msr.get(MSR_TSC_AUX) ?? 0n) & 0xffffffffn) | 0, 0);
  }
}

/** rdrand (op 0) / rdseed (op 1): from the seeded RandomSource; CF = 1 on success. */
function rdrand(c: Cpu, i: Insn): void {
  const present = i.op === 0 ? hasFeature(c, 1, 2, 30) : hasFeature(c, 7, 1, 18);
  if (!present) throw ud(i.op === 0 ? 'rdrand not in the CPUID model' : 'rdseed not in the CPUID model');
  const r = c.random;
  if (r === undefined) { setReg(c, i.a, i.size, 0, 0); setArithFlags(c, 0); return; }
  const lo = r.next32(), hi = i.size === 64 ? r.next32() : 0;
  setReg(c, i.a, i.size, lo, hi);
  setArithFlags(c, CF);
}

// ---- Interrupts ----

function intN(c: Cpu, i: Insn): void {
  deliver(c, i.immLo & 0xff, -1, EventKind.Software);
}
function int3(c: Cpu, _i: Insn): void { deliver(c, Vector.BP, -1, EventKind.SoftException); }
function into(c: Cpu, _i: Insn): void { if (getOF(c)) deliver(c, Vector.OF, -1, EventKind.SoftException); }
function int1(c: Cpu, _i: Insn): void { deliver(c, Vector.DB, -1, EventKind.Int1); }

function checkIopl(c: Cpu, what: string): void {
  if (!(c.cr0 & CR0_PE)) return;
  const iopl = (c.flagsSys >> 12) & 3;
  if ((c.flagsSys & VM) ? iopl < 3 : c.cpl > iopl) throw gp(0, `${what} with CPL ${c.cpl} > IOPL ${iopl}`);
}

function cli(c: Cpu, _i: Insn): void { checkIopl(c, 'cli'); c.flagsSys &= ~IF; }

/** sti: interrupts are recognised only after the next instruction (the shadow). */
function sti(c: Cpu, _i: Insn): void {
  checkIopl(c, 'sti');
  if (!(c.flagsSys & IF)) c.interruptShadow = true;
  c.flagsSys |= IF;
  c.blockExit = true;
}

// ---- Caches, TLB, swapgs ----

function privNop(c: Cpu, i: Insn): void { cpl0(c, i.op ? 'wbinvd' : 'invd'); }
function nop(): void {}

/** clflush: faults like a byte read of its operand. */
function clflush(c: Cpu, i: Insn): void { readA(c, i, 8); }

function invlpg(c: Cpu, i: Insn): void {
  cpl0(c, 'invlpg');
  ea(c, i);
  c.flushTlbPage(c.eaLo, c.eaHi);
  flushTranslations(c);
}

function swapgs(c: Cpu, _i: Insn): void {
  if (c.codeBits !== 64) throw ud('swapgs outside 64-bit mode');
  cpl0(c, 'swapgs');
  const lo = c.segBaseLo[Seg.GS]!, hi = c.segBaseHi[Seg.GS]!;
  c.segBaseLo[Seg.GS] = c.kernelGsBaseLo; c.segBaseHi[Seg.GS] = c.kernelGsBaseHi;
  c.kernelGsBaseLo = lo; c.kernelGsBaseHi = hi;
}

// ---- x87 control, XCR0 ----

function x87Available(c: Cpu): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) throw new CpuFault(Vector.NM, -1, 'x87 instruction with CR0.EM or CR0.TS set');
}

function fninit(c: Cpu, _i: Insn): void { x87Available(c); c.fpuControl = 0x37f; c.fpuStatus = 0; c.fpuTag = 0xffff; }
/** fnstsw ax (a >= 0) or m16. */
function fnstsw(c: Cpu, i: Insn): void {
  x87Available(c);
  if (i.a >= 0) setReg(c, 0, 16, c.fpuStatus, 0);
  else { ea(c, i); c.write16(c.eaLo, c.eaHi, c.fpuStatus); }
}
function fnstcw(c: Cpu, i: Insn): void { x87Available(c); ea(c, i); c.write16(c.eaLo, c.eaHi, c.fpuControl); }
function fldcw(c: Cpu, i: Insn): void { x87Available(c); c.fpuControl = readA(c, i, 16) | 0x40; }
/** wait/fwait: #NM when CR0.TS and CR0.MP are both set. */
function fwait(c: Cpu, _i: Insn): void {
  if ((c.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) throw new CpuFault(Vector.NM, -1, 'wait with CR0.TS and CR0.MP set');
}

function xgetbv(c: Cpu, _i: Insn): void {
  if (!(c.cr4 & 0x40000)) throw ud('xgetbv with CR4.OSXSAVE clear');
  if (c.lo[1] !== 0) throw gp(0, `xgetbv of XCR${c.lo[1]}`);
  const v = c.msr.get(XCR0_KEY) ?? 1n;
  setReg(c, 0, 32, Number(v & 0xffffffffn) | 0, 0);
  setReg(c, 2, 32, Number(v >> 32n) | 0, 0);
}

function xsetbv(c: Cpu, _i: Insn): void {
  if (!(c.cr4 & 0x40000)) throw ud('xsetbv with CR4.OSXSAVE clear');
  cpl0(c, 'xsetbv');
  if (c.lo[1] !== 0) throw gp(0, `xsetbv of XCR${c.lo[1]}`);
  c.cpuidModel.cpuid(0xd, 0, cpuidOut);
  const supported = BigInt(cpuidOut[0]! >>> 0) | (BigInt(cpuidOut[3]! >>> 0) << 32n) | 1n;
  const v = (BigInt(c.lo[2]! >>> 0) << 32n) | BigInt(c.lo[0]! >>> 0);
  if (!(v & 1n) || (v & ~supported) || ((v & 4n) && !(v & 2n))) throw gp(0, `invalid XCR0 value 0x${v.toString(16)}`);
  c.msr.set(XCR0_KEY, v);
}

function undefinedOpcode(_c: Cpu, i: Insn): void { throw ud(`undefined opcode (bytes ${Array.from(i.bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')})`); }

// ---- Registration ----

type Rule = Omit<Entry, 'form'> & { form?: number };
const E = FORM_ENDS_BLOCK;
const SEG_NAMES: Record<string, number> = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 };
const SUFFIX: Record<string, number> = { w: 16, d: 32, q: 64, b: 8 };

const FIXED: Record<string, Rule> = {
  Hlt: { handler: hlt, op: 0, size: 0, form: E },
  Lgdt_m1632_16: { handler: lgdt, op: 0, size: 16 }, Lgdt_m1632: { handler: lgdt, op: 0, size: 32 }, Lgdt_m1664: { handler: lgdt, op: 0, size: 64 },
  Lidt_m1632_16: { handler: lgdt, op: 1, size: 16 }, Lidt_m1632: { handler: lgdt, op: 1, size: 32 }, Lidt_m1664: { handler: lgdt, op: 1, size: 64 },
  Sgdt_m1632_16: { handler: sgdt, op: 0, size: 16 }, Sgdt_m1632: { handler: sgdt, op: 0, size: 32 }, Sgdt_m1664: { handler: sgdt, op: 0, size: 64 },
  Sidt_m1632_16: { handler: sgdt, op: 1, size: 16 }, Sidt_m1632: { handler: sgdt, op: 1, size: 32 }, Sidt_m1664: { handler: sgdt, op: 1, size: 64 },
  Clts: { handler: clts, op: 0, size: 0, form: E },
  Mov_cr_r32: { handler: movToCr, op: 0, size: 32, form: E }, Mov_cr_r64: { handler: movToCr, op: 0, size: 64, form: E },
  Mov_r32_cr: { handler: movFromCr, op: 0, size: 32 }, Mov_r64_cr: { handler: movFromCr, op: 0, size: 64 },
  Mov_dr_r32: { handler: movToDr, op: 0, size: 32 }, Mov_dr_r64: { handler: movToDr, op: 0, size: 64 },
  Mov_r32_dr: { handler: movFromDr, op: 0, size: 32 }, Mov_r64_dr: { handler: movFromDr, op: 0, size: 64 },
  Rdmsr: { handler: rdmsr, op: 0, size: 0 }, Wrmsr: { handler: wrmsr, op: 0, size: 0, form: E },
  Cpuid: { handler: cpuid, op: 0, size: 0 },
  Rdtsc: { handler: rdtsc, op: 0, size: 0 }, Rdtscp: { handler: rdtsc, op: 1, size: 0 },
  Int_imm8: { handler: intN, op: 0, size: 0 }, Int3: { handler: int3, op: 0, size: 0 }, Into: { handler: into, op: 0, size: 0 }, Int1: { handler: int1, op: 0, size: 0 },
  Cli: { handler: cli, op: 0, size: 0 }, Sti: { handler: sti, op: 0, size: 0, form: E },
  Invd: { handler: privNop, op: 0, size: 0 }, Wbinvd: { handler: privNop, op: 1, size: 0 },
  Clflush_m8: { handler: clflush, op: 0, size: 8 }, Clflushopt_m8: { handler: clflush, op: 0, size: 8 }, Clwb_m8: { handler: clflush, op: 0, size: 8 },
  Invlpg_m: { handler: invlpg, op: 0, size: 0, form: E },
  Swapgs: { handler: swapgs, op: 0, size: 0 },
  Fninit: { handler: fninit, op: 0, size: 0 }, Fnstsw_AX: { handler: fnstsw, op: 0, size: 16 }, Fnstsw_m2byte: { handler: fnstsw, op: 0, size: 16 },
  Fnstcw_m2byte: { handler: fnstcw, op: 0, size: 16 }, Fldcw_m2byte: { handler: fldcw, op: 0, size: 16 }, Wait: { handler: fwait, op: 0, size: 0 },
  Xgetbv: { handler: xgetbv, op: 0, size: 0 }, Xsetbv: { handler: xsetbv, op: 0, size: 0, form: E },
  Jmp_ptr1616: { handler: jmpFarPtr, op: 0, size: 16 }, Jmp_ptr1632: { handler: jmpFarPtr, op: 0, size: 32 },
  Jmp_m1616: { handler: jmpFarMem, op: 0, size: 16 }, Jmp_m1632: { handler: jmpFarMem, op: 0, size: 32 }, Jmp_m1664: { handler: jmpFarMem, op: 0, size: 64 },
  Call_ptr1616: { handler: callFarPtr, op: 0, size: 16 }, Call_ptr1632: { handler: callFarPtr, op: 0, size: 32 },
  Call_m1616: { handler: callFarMem, op: 0, size: 16 }, Call_m1632: { handler: callFarMem, op: 0, size: 32 }, Call_m1664: { handler: callFarMem, op: 0, size: 64 },
  Retfw: { handler: retFar, op: 0, size: 16 }, Retfd: { handler: retFar, op: 0, size: 32 }, Retfq: { handler: retFar, op: 0, size: 64 },
  Retfw_imm16: { handler: retFar, op: 0, size: 16 }, Retfd_imm16: { handler: retFar, op: 0, size: 32 }, Retfq_imm16: { handler: retFar, op: 0, size: 64 },
  Iretw: { handler: iret, op: 0, size: 16 }, Iretd: { handler: iret, op: 0, size: 32 }, Iretq: { handler: iret, op: 0, size: 64 },
  Mov_Sreg_rm16: { handler: movToSreg, op: 0, size: 16 }, Mov_Sreg_r32m16: { handler: movToSreg, op: 0, size: 16 }, Mov_Sreg_r64m16: { handler: movToSreg, op: 0, size: 16 },
  Mov_rm16_Sreg: { handler: movFromSreg, op: 0, size: 16 }, Mov_r32m16_Sreg: { handler: movFromSreg, op: 0, size: 32 }, Mov_r64m16_Sreg: { handler: movFromSreg, op: 0, size: 64 },
  Arpl_rm16_r16: { handler: arpl, op: 0, size: 16 }, Arpl_r32m16_r32: { handler: arpl, op: 0, size: 16 },
  Sldt_rm16: { handler: sldtStr, op: 0, size: 16 }, Sldt_r32m16: { handler: sldtStr, op: 0, size: 32 }, Sldt_r64m16: { handler: sldtStr, op: 0, size: 64 },
  Str_rm16: { handler: sldtStr, op: 1, size: 16 }, Str_r32m16: { handler: sldtStr, op: 1, size: 32 }, Str_r64m16: { handler: sldtStr, op: 1, size: 64 },
  Lldt_rm16: { handler: lldtLtr, op: 0, size: 16 }, Lldt_r32m16: { handler: lldtLtr, op: 0, size: 16 }, Lldt_r64m16: { handler: lldtLtr, op: 0, size: 16 },
  Ltr_rm16: { handler: lldtLtr, op: 1, size: 16 }, Ltr_r32m16: { handler: lldtLtr, op: 1, size: 16 }, Ltr_r64m16: { handler: lldtLtr, op: 1, size: 16 },
  Smsw_rm16: { handler: smsw, op: 0, size: 16 }, Smsw_r32m16: { handler: smsw, op: 0, size: 32 }, Smsw_r64m16: { handler: smsw, op: 0, size: 64 },
  Lmsw_rm16: { handler: lmsw, op: 0, size: 16, form: E }, Lmsw_r32m16: { handler: lmsw, op: 0, size: 16, form: E }, Lmsw_r64m16: { handler: lmsw, op: 0, size: 16, form: E },
  Ud0: { handler: undefinedOpcode, op: 0, size: 0 }, Ud2: { handler: undefinedOpcode, op: 0, size: 0 },
  Lfence: { handler: nop, op: 0, size: 0 }, Mfence: { handler: nop, op: 0, size: 0 }, Sfence: { handler: nop, op: 0, size: 0 },
  Endbr64: { handler: nop, op: 0, size: 0 }, Endbr32: { handler: nop, op: 0, size: 0 },
};

function rule(name: string): Rule | undefined {
  const f = FIXED[name];
  if (f) return f;
  let m = /^(Push|Pop)([wdq])_(ES|CS|SS|DS|FS|GS)$/.exec(name);
  if (m) return { handler: m[1] === 'Push' ? pushSreg : popSreg, op: SEG_NAMES[m[3]!]!, size: SUFFIX[m[2]!]!, form: m[3] === 'SS' ? E : 0 };
  m = /^L(ss|ds|es|fs|gs)_r(16|32|64)_m16(16|32|64)$/.exec(name);
  if (m) return { handler: loadFarPointer, op: SEG_NAMES[m[1]!.toUpperCase()]!, size: Number(m[2]) };
  m = /^(In|Out)_(?:(AL|AX|EAX)_(imm8|DX)|(imm8|DX)_(AL|AX|EAX))$/.exec(name);
  if (m) {
    const reg = m[2] ?? m[5]!, port = m[3] ?? m[4]!;
    return { handler: m[1] === 'In' ? inOp : outOp, op: port === 'DX' ? 1 : 0, size: reg === 'AL' ? 8 : reg === 'AX' ? 16 : 32 };
  }
  m = /^(Ins|Outs)([bwd])_/.exec(name);
  if (m) return { handler: m[1] === 'Ins' ? ins : outs, op: 0, size: SUFFIX[m[2]!]!, form: FORM_STRING };
  if (/^(Lfence|Mfence|Sfence)_/.test(name) || /^Prefetch(w|nta|t0|t1|t2)?_m8$/.test(name)) return { handler: nop, op: 0, size: 0 };
  m = /^Rd(rand|seed)_r(16|32|64)$/.exec(name);
  if (m) return { handler: rdrand, op: m[1] === 'rand' ? 0 : 1, size: Number(m[2]) };
  if (/^Ud1_/.test(name) || /^Ud0_/.test(name)) return { handler: undefinedOpcode, op: 0, size: 0 };
  return undefined;
}

extendTable((name) => {
  const e = rule(name);
  return e ? { handler: e.handler, op: e.op, size: e.size, form: e.form ?? 0 } : undefined;
});

