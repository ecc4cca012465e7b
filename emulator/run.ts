// The run loop: look up the block at RIP, execute its instructions with
// RIP advanced before each one (branches overwrite it), count retired
// instructions, and turn faults into delivered exceptions or stops.
import { linearKey, type Cpu } from './cpu.ts';
import { CpuFault, NonCanonicalFault, Vector } from './fault.ts';
import { MEM_SS, type Insn } from './insn.ts';
import { drWords, execBreakpoints } from './debugregs.ts';
import { compileBlock } from './jit/compile.ts';
import { compileHot } from './jit/wasm/backend.ts';

const TF = 0x100, RF = 0x10000;

export const enum Stop {
  /** The instruction budget ran out. */
  Budget = 0,
  /** hlt executed (the machine decides whether an interrupt can wake it). */
  Halt = 1,
  /** An exception that was not delivered (no delivery installed, or runOne). */
  Fault = 2,
  /** Stopped on request (breakpoint, until-address, host request). */
  Requested = 3,
  /** A fault while delivering a double fault: the CPU shuts down. */
  TripleFault = 4,
  /** An execution breakpoint's callback asked to stop; RIP is on the breakpoint. */
  Breakpoint = 5,
  /** Execution ran into zero-filled memory for thousands of bytes (a jump into nowhere); RIP is where the last block started. */
  Runaway = 6,
}

/** How a raised exception is handled: return true if delivered (execution continues), false to stop. */
export type FaultHandler = (c: Cpu, f: CpuFault) => boolean;

/**
 * Run up to `budget` units of virtual time: instructions, with each
 * iteration of a rep string instruction counted as one (docs/time-model.md).
 * On Stop.Budget exactly `budget` units ran; a rep string instruction may be
 * left between iterations (RIP on it, RCX/RSI/RDI the work left) and the
 * next run resumes it. Returns why it stopped; on Stop.Fault the fault is in
 * c.lastFault and RIP points at the faulting instruction.
 */
export function run(c: Cpu, budget: number): Stop {
  const end = c.icount + budget;
  c.stopRequested = false;
  while (c.icount < end) {
    if (c.halted) return Stop.Halt;
    if (c.stopRequested) return Stop.Requested;
    if (c.shutdown) return Stop.TripleFault;
    if (c.beforeBlock !== null && c.beforeBlock(c)) continue;
    let b;
    try {
      b = c.blocks.lookup();
      if (b === null) {
        if (c.runaway) { c.runaway = false; return Stop.Runaway; }
        return Stop.Requested; // a decode hook asked to stop before new code
      }
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      c.cur = null;
      if (!raise(c, e)) return c.shutdown ? Stop.TripleFault : Stop.Fault;
      continue;
    }
    if (c.breakpoints.size !== 0) {
      const key = linearKey(b.linLo, b.linHi);
      const bp = c.breakpoints.get(key);
      if (bp !== undefined) {
        if (c.breakpointResume === key) c.breakpointResume = -1;
        else if (bp(c)) { c.breakpointResume = key; return Stop.Breakpoint; }
        else if (c.stopRequested) return Stop.Requested;
      }
    }
    const insns = b.insns;
    // Time this block may use (an instruction or a rep iteration is one unit; docs/time-model.md).
    let lim = end - c.icount;
    if (c.stepLimit > 0 && lim > c.stepLimit) lim = c.stepLimit;
    // RFLAGS.TF at the start of an instruction: a single-step #DB after it (SDM Vol. 3A 18.3.1.4).
    // DR7 breakpoints (debugregs.ts): one instruction at a time too. Both step a rep string instruction one iteration at a time.
    // RF (set by an iret from a fault handler) lasts one instruction: step that one so it is cleared after it.
    const tf = (c.flagsSys & TF) !== 0;
    const step = tf || c.dbg !== 0 || (c.flagsSys & RF) !== 0;
    if (step) lim = 1;
    const n0 = insns.length;
    const n = n0 < lim ? n0 : lim | 0; // a small integer then: the walk's counts stay int32 (lim itself may exceed it)
    c.limit = c.icount + lim;
    c.fit = c.limit - n;
    if (step) {
      if ((c.dbg & 0xf) !== 0 && (c.flagsSys & RF) === 0) {
        const hit = execBreakpoints(c, b.linLo, b.linHi);
        if (hit !== 0) {
          // Fault-class #DB before the instruction; the handler resumes with RF set to get past it.
          const dr = drWords(c);
          dr[12] = (dr[12]! & ~0xf) | hit;
          c.cur = null;
          if (!raise(c, new CpuFault(Vector.DB, -1, 'instruction breakpoint'))) return c.shutdown ? Stop.TripleFault : Stop.Fault;
          continue;
        }
      }
      c.flagsSys &= ~RF; // RF lasts one instruction (an iret may set it again)
      if (!c.ssShadow) c.dbgHit = 0; // after mov ss, its data breakpoint hits are reported after this instruction
      c.ssShadow = false;
    }
    const events = c.events;
    c.blockExit = false;
    let k = 0;
    try {
      // Compiled blocks inline flat addressing: they run only when none of their inline accesses needs a check (segcheck.ts).
      if (n === n0 && !step && !c.interpretOnly) {
        let f = b.compiled;
        if (f === null && ++b.hits === c.jitThreshold) { f = b.compiled = c.wasm !== null ? compileHot(b, c, c.wasm) : compileBlock(b, b.modeKey, c.blocks); c.blocksCompiled++; }
        // A compiled block may go on into a successor (b.span instructions at most): it runs when all of them fit.
        if (f !== null && (c.checks & b.checkMask) === 0 && b.span <= lim) {
          c.fit = c.limit - b.span;
          k = f(c); c.icount += k; c.cur = null;
          if (c.tail !== null) { b = c.tail; c.tail = null; c.blocks.ranInto(b); }
          // Chain compiled blocks while nothing needs the checks at the top of this loop:
          // no mode change (blockExit), no per-block hook, breakpoint, stop request or stepping.
          while (!c.blockExit && c.beforeBlock === null && !c.stopRequested && c.dbg === 0 && (c.flagsSys & TF) === 0 && c.stepLimit === 0) {
            const nb = c.blocks.successor(b);
            if (nb === null || nb.atBreakpoint) break;
            const nf = nb.compiled;
            if (nf === null || (c.checks & nb.checkMask) !== 0 || c.icount + nb.span > end) break;
            b = nb; k = 0;
            c.fit = end - nb.span; // c.limit is `end` here (no stepping, no stepLimit)
            k = nf(c); c.icount += k; c.cur = null;
            if (c.tail !== null) { b = c.tail; c.tail = null; c.blocks.ranInto(b); }
          }
          continue;
        }
      }
      let code = insns, m = n;
      for (;;) {
        // RIP is set once, to where the last instruction to run ends: only a branch (always last) reads or changes
        // it; a fault puts it back on the faulting instruction.
        const last = code[m - 1]!;
        c.ripLo = last.nextLo; c.ripHi = last.nextHi;
        if (m === code.length) {
          // The whole block: walk its list (specialize.ts link). Only instructions that may fault, write or read the
          // clock are named in c.cur (Insn.named): a fault's catch below finds its instruction there.
          let i = code[0]!;
          for (;;) {
            if (i.named === true) c.cur = i; // one compare (a bare truth test of a field is a full ToBoolean)
            i.go(c, i);
            if (c.blockExit !== false) { k = i.pos + 1; break; }
            const nx = i.after;
            if (nx === null) { k = m; break; }
            i = nx;
          }
        } else {
          for (; k < m; k++) {
            const i = code[k]!;
            c.cur = i;
            i.run(c, i);
            if (c.blockExit !== false) { k++; break; }
          }
        }
        c.icount += k;
        // An instruction before the last ended the block (mode change, rep suspended): RIP follows it unless it set RIP.
        if (k !== m && c.ripLo === last.nextLo && c.ripHi === last.nextHi) { const e = code[k - 1]!; c.ripLo = e.nextLo; c.ripHi = e.nextHi; }
        // Go on into the next interpreted block without the checks at the top of this loop while none is needed.
        // The successor cache records b as the block that ran last when the walk stops (here or in the catch below).
        if (k !== code.length || step || !chainable(c)) break;
        const nb = c.blocks.follow(b);
        if (nb === null) break;
        // Left to the top of the loop (compiled, not fitting, or about to be compiled: it counts that hit there):
        // its lookup starts again from b and finds nb as b's successor.
        if (nb.compiled !== null || c.icount + nb.insns.length > c.limit || (!c.interpretOnly && c.jitThreshold !== 0 && nb.hits + 1 >= c.jitThreshold)) break;
        if (!c.interpretOnly && c.jitThreshold !== 0) nb.hits++;
        b = nb; code = nb.insns; m = code.length; k = 0;
        c.fit = c.limit - m;
      }
      c.blocks.ranInto(b);
      c.cur = null;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      c.blocks.ranInto(b);
      c.tail = null;
      const i = c.cur!;
      // A compiled block faulted: count what retired before it in its block (a successor it went on into
      // has its own positions; c.icount already counts the block before it).
      if (k === 0) k = i.pos;
      c.icount += k;
      // icount is now the faulting instruction's time, which its delivery's stack writes must see (preciseIcount).
      c.cur = null; c.faultInsn = i;
      c.ripLo = i.ripLo; c.ripHi = i.ripHi;
      const delivered = raise(c, refine(i, e));
      c.faultInsn = null;
      if (!delivered) return c.shutdown ? Stop.TripleFault : Stop.Fault;
      continue;
    }
    if (step && k === 1 && (tf || c.dbgHit !== 0) && c.events === events && !c.shutdown && !c.halted && !c.ssShadow) {
      // Trap-class #DB: RIP is already at the next instruction. DR6: B0-B3 the data breakpoints hit, BS for TF.
      const dr = drWords(c);
      dr[12] = (dr[12]! & ~0xf) | c.dbgHit | (tf ? 0x4000 : 0);
      c.dbgHit = 0;
      if (!raise(c, new CpuFault(Vector.DB, -1, tf ? 'single step' : 'data breakpoint'))) return c.shutdown ? Stop.TripleFault : Stop.Fault;
    }
  }
  return Stop.Budget;
}

/** Nothing needs the per-block checks of the run loop: no mode change, hook, breakpoint, stop request or stepping. */
function chainable(c: Cpu): boolean {
  return !c.blockExit && c.beforeBlock === null && !c.stopRequested && c.dbg === 0 && (c.flagsSys & (TF | RF)) === 0 && c.stepLimit === 0 && c.breakpoints.size === 0;
}

/**
 * A non-canonical address of an SS-relative operand (based on RSP/RBP or
 * with an SS override) raises #SS(0), not #GP(0) (SDM Vol. 2, "64-Bit Mode
 * Exceptions"). The page walker cannot tell; the instruction can.
 */
function refine(i: Insn, e: CpuFault): CpuFault {
  if (e instanceof NonCanonicalFault && (i.mflags & MEM_SS) !== 0) return new CpuFault(Vector.SS, 0, `${e.detail} (SS-relative operand)`);
  return e;
}

/** Hand a fault to the installed handler; record it when it is not delivered. */
function raise(c: Cpu, f: CpuFault): boolean {
  c.lastFault = f;
  if (c.faultHandler !== null && c.faultHandler(c, f)) return true;
  return false;
}

/**
 * Execute exactly one instruction at RIP without delivering exceptions; a
 * rep string instruction runs all its iterations (the clock advances by
 * their count). Returns -1, or the vector of the exception it raised
 * (state as before the instruction; a rep stops at the faulting iteration).
 */
export function runOne(c: Cpu): number {
  let b;
  try {
    b = c.blocks.lookup(true);
  } catch (e) {
    if (e instanceof CpuFault) { c.lastFault = e; return e.vector; }
    throw e;
  }
  const i = b!.insns[0]!;
  c.cur = i;
  c.blockExit = false;
  c.limit = Infinity; c.fit = Infinity; // a rep string instruction runs to its end
  c.ripLo = i.nextLo; c.ripHi = i.nextHi;
  try {
    i.run(c, i);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    c.ripLo = i.ripLo; c.ripHi = i.ripHi;
    const f = refine(i, e);
    c.lastFault = f;
    return f.vector;
  }
  c.icount++;
  return -1;
}
