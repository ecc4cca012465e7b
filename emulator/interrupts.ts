// Exception and interrupt delivery: through the IVT in real mode, 16/32-bit
// gates in protected mode, 64-bit gates (IST, stack switch, RSP alignment)
// in long mode; the double-fault rules and the triple fault, which shuts
// the CPU down and is recorded as a structured event (never a host error).
// References: Intel SDM Vol. 3A 6.12 (exception/interrupt handling),
// 6.14 (64-bit mode), 6.15 table 6-5 (double fault conditions);
// Vol. 2A INT n/INTO/INT3/INT1 (the delivery pseudo-code).
import type { Cpu } from './cpu.ts';
import { CpuFault, Vector, gp } from './fault.ts';
import { Seg, ATTR_S, ATTR_P, ATTR_L, ATTR_DB } from './regs.ts';
import { fetchDescriptor, descAttr, descBase, descLimit, loadCs, isLongMode, type Descriptor } from './segments.ts';
import { sysRead, sysWrite, addLinear } from './sysmem.ts';
import { captureState, type CpuState } from './state.ts';
import { disassemble } from './decode.ts';

const IF = 0x200, TF = 0x100, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000;

/** What raised the event: decides EXT in error codes, the gate DPL check and #DF promotion. */
export const enum EventKind {
  /** An exception raised by an instruction or by delivery (EXT = 1, no DPL check). */
  Exception = 0,
  /** int n: gate DPL checked against CPL, EXT = 0. */
  Software = 1,
  /** int3 / into: like int n (DPL checked, EXT = 0). */
  SoftException = 2,
  /** An external interrupt (EXT = 1). */
  External = 3,
  /** int1 (icebp): delivered like a #DB, no DPL check. */
  Int1 = 4,
}

/** An interrupt controller as the core sees it. */
export interface InterruptSource {
  /** The vector the CPU should take next, or -1 when none is pending. */
  pending(): number;
  /** The CPU accepted `vector` (it is being delivered). */
  acknowledge(vector: number): void;
}

export interface FaultRecord { vector: number; errorCode: number; detail: string }

/** A triple fault: the CPU shut down. */
export interface TripleFaultEvent {
  /** RIP of the instruction whose exception could not be delivered. */
  rip: bigint;
  /** Its disassembly (empty when the fault was on fetching it). */
  instruction: string;
  /** The exceptions in order: the original fault, the ones met delivering it, the last one while delivering #DF. */
  chain: FaultRecord[];
  /** The state at shutdown. */
  state: CpuState;
}

/** What the system layer records while the CPU runs. */
export class SystemEvents {
  tripleFault: TripleFaultEvent | null = null;
  /** Exceptions delivered (not counting software interrupts). */
  exceptions = 0;
  interrupts = 0;
}

const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

function ext(kind: EventKind): number {
  return kind === EventKind.Software || kind === EventKind.SoftException ? 0 : 1;
}

function hex(v: number): string { return `0x${(v >>> 0).toString(16)}`; }

/** Write one stack slot of `bytes` (2, 4, 8) at a linear address as a supervisor (or cpl) access. */
function writeSlot(c: Cpu, lo: number, hi: number, bytes: number, vlo: number, vhi: number, cpl: number): void {
  if (bytes === 2) sysWrite(c, lo, hi, 2, vlo & 0xffff, cpl);
  else if (bytes === 4) sysWrite(c, lo, hi, 4, vlo, cpl);
  else {
    sysWrite(c, lo, hi, 4, vlo, cpl);
    const [a, ah] = addLinear(lo, hi, 4);
    sysWrite(c, a, ah, 4, vhi, cpl);
  }
}

/**
 * Push `vals` (pairs lo, hi; first pushed first) on a stack: `bits` is the
 * stack address size (16, 32, 64), `slot` the bytes per value. Returns the
 * new stack pointer (lo, hi); writes memory but commits no register.
 */
function pushFrame(c: Cpu, ssBase: number, spLo: number, spHi: number, bits: number, slot: number, vals: number[], cpl: number): [number, number] {
  let lo = spLo, hi = spHi;
  for (let k = 0; k < vals.length; k += 2) {
    if (bits === 64) { const t = (lo >>> 0) - slot; lo = t | 0; if (t < 0) hi = (hi - 1) | 0; }
    else if (bits === 32) { lo = (lo - slot) | 0; hi = 0; }
    else { lo = (lo - slot) & 0xffff; hi = 0; }
    const linLo = bits === 64 ? lo : (lo + ssBase) | 0, linHi = bits === 64 ? hi : 0;
    writeSlot(c, linLo, linHi, slot, vals[k]!, vals[k + 1]!, cpl);
  }
  return [lo, hi];
}

/** Whether `n` slots of `slot` bytes can be pushed below offset `sp` of a stack segment (limit, attributes; `bits` 16/32). */
function stackRoom(limit: number, attr: number, sp: number, bits: number, n: number, slot: number): boolean {
  const lim = limit >>> 0, upper = attr & ATTR_DB ? 0xffffffff : 0xffff;
  for (let k = 1; k <= n; k++) {
    const off = bits === 32 ? (sp - k * slot) >>> 0 : (sp - k * slot) & 0xffff;
    const last = off + slot - 1;
    if (attr & 4 ? off <= lim || last > upper : last > lim) return false;
  }
  return true;
}

/** Deliver one event; throws the CpuFault met on the way (nothing architectural committed then, except stack bytes). */
export function deliver(c: Cpu, vector: number, errorCode: number, kind: EventKind): void {
  if (!(c.cr0 & 1)) deliverReal(c, vector);
  else if (isLongMode(c)) deliverLong(c, vector, errorCode, kind);
  else deliverProtected(c, vector, errorCode, kind);
  c.blockExit = true;
  c.halted = false;
  c.events++;
}

function deliverReal(c: Cpu, vector: number): void {
  const off = vector * 4;
  if (off + 3 > (c.idtrLimit >>> 0)) throw gp(vector * 8 + 2, `vector ${vector} beyond the real-mode IVT limit`);
  const base = c.idtrBaseLo;
  const ip = sysRead(c, (base + off) | 0, 0, 2), cs = sysRead(c, (base + off + 2) | 0, 0, 2);
  const flags = c.getRflags() & 0xffff;
  const [sp] = pushFrame(c, c.segBaseLo[Seg.SS]!, c.lo[4]!, 0, c.stackBits === 32 ? 32 : 16, 2, [flags, 0, c.segSel[Seg.CS]!, 0, c.ripLo & 0xffff, 0], 0);
  if (c.stackBits === 32) c.lo[4] = sp; else c.lo[4] = (c.lo[4]! & ~0xffff) | sp;
  c.flagsSys &= ~(IF | TF | AC);
  c.setSegmentRaw(Seg.CS, cs, cs << 4, 0, c.segLimit[Seg.CS]!, c.segAttr[Seg.CS]!);
  c.ripLo = ip; c.ripHi = 0;
}

/** Read the target code segment of a gate and check it (#GP/#NP with selector | EXT). */
function gateTarget(c: Cpu, sel: number, e: number, long: boolean): Descriptor {
  if ((sel & 0xfffc) === 0) throw gp(e, 'interrupt gate with a null code selector');
  const d = fetchDescriptor(c, sel, Vector.GP, e);
  const attr = descAttr(d), dpl = (attr >> 5) & 3;
  if (!(attr & ATTR_S) || !(attr & 8) || dpl > c.cpl) throw gp((sel & 0xfffc) | e, `gate target ${hex(sel)} is not a code segment at DPL <= CPL`);
  if (long && (!(attr & ATTR_L) || (attr & ATTR_DB))) throw gp((sel & 0xfffc) | e, `gate target ${hex(sel)} is not a 64-bit code segment`);
  if (!(attr & ATTR_P)) throw new CpuFault(Vector.NP, (sel & 0xfffc) | e, `gate target ${hex(sel)} not present`);
  return d;
}

/** Read a field of the current TSS (#TS(tr | EXT) beyond its limit). */
function tssRead(c: Cpu, off: number, size: number, e: number): number {
  if (off + size - 1 > (c.trLimit >>> 0) || (c.trSel & 0xfffc) === 0) throw new CpuFault(Vector.TS, (c.trSel & 0xfffc) | e, `TSS too small for offset ${hex(off)}`);
  const [a, ah] = addLinear(c.trBaseLo, isLongMode(c) ? c.trBaseHi : 0, off);
  return sysRead(c, a, ah, size);
}

function readGate(c: Cpu, vector: number, kind: EventKind, size: number): number[] {
  const e = ext(kind);
  const idtErr = vector * 8 + 2 + e;
  if (vector * size + size - 1 > (c.idtrLimit >>> 0)) throw gp(idtErr, `vector ${vector} beyond the IDT limit ${hex(c.idtrLimit)}`);
  const [base, baseHi] = addLinear(c.idtrBaseLo, size === 16 ? c.idtrBaseHi : 0, vector * size);
  const w: number[] = [];
  for (let k = 0; k < size; k += 4) { const [a, ah] = addLinear(base, baseHi, k); w.push(sysRead(c, a, ah, 4)); }
  return w;
}

function checkGate(c: Cpu, vector: number, kind: EventKind, w1: number, types: number[]): void {
  const e = ext(kind);
  const type = (w1 >> 8) & 0x1f;
  if (!types.includes(type)) throw gp(vector * 8 + 2 + e, type === 5 ? 'task gates are not implemented' : `IDT entry ${vector} has type ${hex(type)}`);
  const dpl = (w1 >> 13) & 3;
  if ((kind === EventKind.Software || kind === EventKind.SoftException) && dpl < c.cpl) throw gp(vector * 8 + 2, `int ${vector}: gate DPL ${dpl} < CPL ${c.cpl}`);
  if (!(w1 & 0x8000)) throw new CpuFault(Vector.NP, vector * 8 + 2 + e, `IDT entry ${vector} not present`);
}

/** Fault-class exception vectors: #DE #BR #UD #NM #TS #NP #SS #GP #PF #MF #AC #XM #VE #CP. */
const FAULTS = (1 << 0) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 20) | (1 << 21);

/**
 * The RFLAGS image an event pushes: a fault-class exception pushes RF = 1
 * so that IRET back to the faulting instruction does not retrigger its
 * instruction breakpoint (Intel SDM Vol. 3A, "Instruction-Breakpoint
 * Exception Condition"; AMD APM Vol. 2, "Resume Flag"; a Linux process sees
 * it in the signal frame: test/diff compares it). Traps,
 * aborts, #DB and interrupts push RFLAGS as it is.
 */
export function pushedFlags(c: Cpu, vector: number, kind: EventKind): number {
  const f = c.getRflags();
  return kind === EventKind.Exception && vector < 32 && (FAULTS >>> vector) & 1 ? f | RF : f;
}

function deliverProtected(c: Cpu, vector: number, errorCode: number, kind: EventKind): void {
  if (c.flagsSys & VM) throw gp(0, 'interrupts from virtual-8086 mode are not implemented');
  const e = ext(kind);
  const [w0, w1] = readGate(c, vector, kind, 8) as [number, number];
  checkGate(c, vector, kind, w1, [0x06, 0x07, 0x0e, 0x0f]);
  const type = (w1 >> 8) & 0x1f;
  const gate32 = (type & 8) !== 0;
  const sel = w0 >>> 16;
  const target = gate32 ? ((w0 & 0xffff) | (w1 & 0xffff0000)) | 0 : w0 & 0xffff;
  const d = gateTarget(c, sel, e, false);
  const attr = descAttr(d), dpl = (attr >> 5) & 3;
  if ((target >>> 0) > (descLimit(d) >>> 0)) throw gp(e, 'interrupt handler beyond its code segment limit');
  const slot = gate32 ? 4 : 2;
  const flags = pushedFlags(c, vector, kind);
  const withCode = errorCode >= 0 && kind === EventKind.Exception;
  const inner = !(attr & 4) && dpl < c.cpl;
  const vals: number[] = [];
  let newSs = -1, ssBase = c.segBaseLo[Seg.SS]!, ssBits = c.stackBits, spLo = c.lo[4]!;
  let ssDesc: Descriptor | null = null;
  if (inner) {
    const tss32 = (c.trAttr & 8) !== 0;
    const sp = tss32 ? tssRead(c, 4 + 8 * dpl, 4, e) : tssRead(c, 2 + 4 * dpl, 2, e);
    newSs = tss32 ? tssRead(c, 8 + 8 * dpl, 2, e) : tssRead(c, 4 + 4 * dpl, 2, e);
    if ((newSs & 0xfffc) === 0) throw new CpuFault(Vector.TS, e, 'null SS in the TSS');
    ssDesc = fetchDescriptor(c, newSs, Vector.TS, e);
    const sa = descAttr(ssDesc);
    if ((newSs & 3) !== dpl || ((sa >> 5) & 3) !== dpl || !(sa & ATTR_S) || (sa & 0xa) !== 2) throw new CpuFault(Vector.TS, (newSs & 0xfffc) | e, `TSS stack segment ${hex(newSs)} invalid for CPL ${dpl}`);
    if (!(sa & ATTR_P)) throw new CpuFault(Vector.SS, (newSs & 0xfffc) | e, `TSS stack segment ${hex(newSs)} not present`);
    ssBase = descBase(ssDesc); ssBits = sa & ATTR_DB ? 32 : 16; spLo = sp;
    vals.push(c.segSel[Seg.SS]!, 0, c.lo[4]!, 0);
  }
  vals.push(flags, 0, c.segSel[Seg.CS]!, 0, c.ripLo, 0);
  if (withCode) vals.push(errorCode, 0);
  // Room for the frame within the stack segment's limit (INT n pseudo-code: #SS(new SS | EXT) on a stack
  // switch, #SS(EXT) on the current stack).
  const ssLimit = ssDesc ? descLimit(ssDesc) : c.segLimit[Seg.SS]!, ssAttr = ssDesc ? descAttr(ssDesc) : c.segAttr[Seg.SS]!;
  if (!stackRoom(ssLimit, ssAttr, spLo, ssBits, vals.length / 2, slot)) {
    throw new CpuFault(Vector.SS, ssDesc ? (newSs & 0xfffc) | e : e, `no room for the ${(vals.length / 2) * slot}-byte interrupt frame below SS:${hex(spLo)}`);
  }
  const [nsp] = pushFrame(c, ssBase, spLo, 0, ssBits, slot, vals, inner ? dpl : c.cpl);
  // Commit.
  if (inner && ssDesc) c.setSegmentRaw(Seg.SS, newSs, ssBase, 0, descLimit(ssDesc), descAttr(ssDesc) | 1);
  if (ssBits === 32) { c.lo[4] = nsp; c.hi[4] = 0; } else c.lo[4] = (c.lo[4]! & ~0xffff) | (nsp & 0xffff);
  c.flagsSys &= ~(TF | NT | RF | VM);
  if (!(type & 1)) c.flagsSys &= ~IF;
  loadCs(c, sel, d, inner ? dpl : c.cpl);
  c.ripLo = target; c.ripHi = 0;
}

function deliverLong(c: Cpu, vector: number, errorCode: number, kind: EventKind): void {
  const e = ext(kind);
  const [w0, w1, w2] = readGate(c, vector, kind, 16) as [number, number, number, number];
  checkGate(c, vector, kind, w1, [0x0e, 0x0f]);
  const type = (w1 >> 8) & 0x1f;
  const sel = w0 >>> 16;
  const tLo = ((w0 & 0xffff) | (w1 & 0xffff0000)) | 0, tHi = w2;
  const d = gateTarget(c, sel, e, true);
  const attr = descAttr(d), dpl = (attr >> 5) & 3;
  if ((tHi >> 15) !== 0 && (tHi >> 15) !== -1) throw gp(e, 'non-canonical interrupt handler address');
  const newCpl = attr & 4 ? c.cpl : dpl;
  const ist = w1 & 7;
  let spLo: number, spHi: number;
  if (ist) { spLo = tssRead(c, 0x24 + 8 * (ist - 1), 4, e); spHi = tssRead(c, 0x28 + 8 * (ist - 1), 4, e); }
  else if (newCpl < c.cpl) { spLo = tssRead(c, 4 + 8 * newCpl, 4, e); spHi = tssRead(c, 8 + 8 * newCpl, 4, e); }
  else { spLo = c.lo[4]!; spHi = c.codeBits === 64 ? c.hi[4]! : 0; }
  if (c.codeBits !== 64 && !ist && newCpl === c.cpl) { if (c.stackBits === 16) spLo &= 0xffff; }
  spLo &= ~0xf; // 64-bit delivery aligns the new stack on 16 bytes
  if ((spHi >> 15) !== 0 && (spHi >> 15) !== -1) throw new CpuFault(Vector.SS, e, 'non-canonical interrupt stack');
  const vals = [c.segSel[Seg.SS]!, 0, c.lo[4]!, c.codeBits === 64 ? c.hi[4]! : 0, pushedFlags(c, vector, kind), 0, c.segSel[Seg.CS]!, 0, c.ripLo, c.ripHi];
  if (errorCode >= 0 && kind === EventKind.Exception) vals.push(errorCode, 0);
  const [nLo, nHi] = pushFrame(c, 0, spLo, spHi, 64, 8, vals, newCpl);
  // Commit.
  if (newCpl < c.cpl) c.setSegmentRaw(Seg.SS, newCpl, 0, 0, 0, 0);
  c.flagsSys &= ~(TF | NT | RF | VM);
  if (!(type & 1)) c.flagsSys &= ~IF;
  loadCs(c, sel, d, newCpl);
  c.lo[4] = nLo; c.hi[4] = nHi;
  c.ripLo = tLo; c.ripHi = tHi;
}

function contributory(v: number): boolean { return v === 0 || (v >= 10 && v <= 13); }

function record(f: CpuFault): FaultRecord { return { vector: f.vector, errorCode: f.errorCode, detail: f.detail }; }

/**
 * Deliver an exception raised by an instruction, applying the double-fault
 * rules (SDM Vol. 3A table 6-5): contributory then contributory, or #PF then
 * contributory/#PF, becomes #DF(0); any fault while delivering #DF shuts the
 * CPU down. Returns false (with c.shutdown set and the event recorded) on a
 * triple fault.
 */
export function deliverException(c: Cpu, f: CpuFault, ev: SystemEvents): boolean {
  const chain: CpuFault[] = [f];
  const rip = c.getRip();
  const insn = c.cur ?? c.faultInsn;
  let vector = f.vector;
  let code = HAS_ERROR_CODE.has(vector) ? Math.max(f.errorCode, 0) : -1;
  for (;;) {
    try {
      deliver(c, vector, code, EventKind.Exception);
      ev.exceptions++;
      return true;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      chain.push(e);
      if (vector === Vector.DF) {
        c.shutdown = true;
        c.blockExit = true;
        let text = '';
        if (insn !== null && insn.len > 0) {
          try { text = disassemble(insn.bytes, c.codeBits, rip); } catch { text = ''; }
        }
        ev.tripleFault = { rip, instruction: text, chain: chain.map(record), state: captureState(c) };
        return false;
      }
      const second = e.vector;
      if ((contributory(vector) && contributory(second)) || (vector === Vector.PF && (contributory(second) || second === Vector.PF))) {
        vector = Vector.DF; code = 0;
      } else {
        vector = second; code = HAS_ERROR_CODE.has(second) ? Math.max(e.errorCode, 0) : -1;
      }
    }
  }
}

/** Take a pending external interrupt if RFLAGS.IF allows and no shadow blocks it. Returns true if one was delivered. */
export function acceptInterrupt(c: Cpu, src: InterruptSource, ev: SystemEvents): boolean {
  if (c.interruptShadow) { c.interruptShadow = false; return false; }
  if (!(c.flagsSys & IF)) return false;
  const v = src.pending();
  if (v < 0) return false;
  src.acknowledge(v);
  try {
    deliver(c, v, -1, EventKind.External);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    // A fault while delivering an external interrupt is handled as an ordinary exception.
    if (!deliverException(c, e, ev)) return true;
  }
  ev.interrupts++;
  return true;
}

export interface SystemOptions {
  /** External interrupt source (PIC/APIC model); none: no external interrupts. */
  interrupts?: InterruptSource;
}

/**
 * Install exception delivery and interrupt acceptance on a CPU. Faults are
 * delivered through the IDT; a triple fault stops the run (Stop.TripleFault)
 * with the event in the returned SystemEvents.
 */
export function installSystem(c: Cpu, opts: SystemOptions = {}): SystemEvents {
  const ev = new SystemEvents();
  c.faultHandler = (cpu, f) => deliverException(cpu, f, ev);
  const src = opts.interrupts;
  // Without an interrupt source there is nothing to accept (and the interrupt
  // shadow only matters to acceptInterrupt): install no per-block hook, so the
  // run loop can chain compiled blocks.
  if (src === undefined) return ev;
  const prev = c.beforeBlock;
  c.beforeBlock = (cpu) => {
    if (prev !== null && prev(cpu)) return true;
    return acceptInterrupt(cpu, src, ev);
  };
  return ev;
}
