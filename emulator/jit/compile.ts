// Block compilation: a hot block becomes one generated JS function. The
// commonest instructions are emitted inline (emit.ts); the rest call their
// handler directly, so every call site is monomorphic (the interpreter's
// `i.exec(c, i)` is megamorphic). RIP and the current instruction are
// stored only before instructions that can fault or that end the block.
import type { Cpu } from '../cpu.ts';
import type { Block } from '../insn.ts';
import { condition, arithFlags, setArithFlags, getCF, CF, OF } from '../flags.ts';
import { emit, type EmitState } from './emit.ts';
import { lea } from '../ops/move.ts';
import { CHECK_AC, CHECK_DBG } from '../regs.ts';
import { jcc, jmpRel } from '../ops/branch.ts';

/** Executions of a block before it is compiled (Cpu.jitThreshold; 0 disables the compiler). */
export const DEFAULT_COMPILE_THRESHOLD = 40;

export type CompiledBlock = (c: Cpu) => number;

/** Rotates change only CF and OF (used by emitted rotate code whose flags are live). */
function rotateFlags(c: Cpu, cf: number, of: number): void {
  setArithFlags(c, (arithFlags(c) & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0));
}

const HI_WRITE = /hi\[(\d+)\] = ([^;]+);/g;

/**
 * Drop `hi[n] = 0;` from one instruction's emitted code when hi[n] is known
 * to be zero already, and update what is known from the code's writes to
 * hi[]: a literal 0 makes it known (only in straight-line code, no `{`),
 * anything else unknown. Register writes in emitted code are all textual
 * `hi[n] = ...` stores (handlers are calls, which clear the set).
 */
export function elideHiZero(code: string, known: Set<number>): string {
  if (!code.includes('hi[')) return code;
  const straight = !code.includes('{');
  return code.replace(HI_WRITE, (all, reg: string, v: string) => {
    const r = Number(reg);
    if (straight && v.trim() === '0') {
      if (known.has(r)) return '';
      known.add(r);
      return all;
    }
    known.delete(r);
    return all;
  });
}

const REG_REF = /\b(lo|hi)\[(\d+)\]/g;
const REG_WRITE = /\b(lo|hi)\[(\d+)\] =(?!=)/g;
/** Placeholders in the generated body for the register write-back (before leaving or calling out) and reload (after a handler call). */
const SYNC_OUT = '/*out*/', SYNC_IN = '/*in*/';

/**
 * Guest registers held in JS locals (L<n>, H<n>) for the whole compiled
 * function, so V8 keeps them in machine registers instead of loading and
 * storing the Int32Arrays per instruction. Emitted code names registers as
 * `lo[n]`/`hi[n]`; this rewrites them, and at each exit (return, handler
 * call, a fault's catch) the halves the block writes are stored back. Handler
 * calls see the CPU in memory and may change any register: the halves the
 * block uses are reloaded after them.
 */
class RegLocals {
  readonly used = new Set<string>();
  readonly written = new Set<string>();
  rewrite(code: string): string {
    for (const m of code.matchAll(REG_WRITE)) this.written.add(`${m[1]}${m[2]}`);
    return code.replace(REG_REF, (_all, half: string, n: string) => { this.used.add(`${half}${n}`); return `${half === 'lo' ? 'L' : 'H'}${n}`; });
  }
  private static local(k: string): string { return `${k[0] === 'l' ? 'L' : 'H'}${k.slice(2)}`; }
  private static slot(k: string): string { return `${k.slice(0, 2)}[${k.slice(2)}]`; }
  /** Declarations loading every used half. */
  prologue(): string { return [...this.used].map((k) => `let ${RegLocals.local(k)} = ${RegLocals.slot(k)};`).join(' '); }
  /** Store back every half the function writes (the others still equal memory). */
  out(): string { return [...this.written].map((k) => `${RegLocals.slot(k)} = ${RegLocals.local(k)};`).join(' '); }
  /** Reload every used half (after a handler call). */
  in(): string { return [...this.used].map((k) => `${RegLocals.local(k)} = ${RegLocals.slot(k)};`).join(' '); }
  render(body: string): string { return body.split(SYNC_OUT).join(this.out()).split(SYNC_IN).join(this.in()); }
}

/** Region limits: blocks and instructions compiled into one function (bigger functions take V8 longer to optimise). */
export const MAX_REGION_BLOCKS = 16, MAX_REGION_INSNS = 256;

/**
 * The RIPs a block may go to next: a relative branch's target and fall-through,
 * the next instruction when the block was cut (page end, size limit), and the
 * two successors seen at run time (returns, indirect branches).
 */
function nextRips(b: Block): [number, number][] {
  const out: [number, number][] = [];
  const l = b.insns[b.insns.length - 1]!;
  if (l.exec === jcc || l.exec === jmpRel) out.push([l.tLo, l.tHi]);
  if (l.exec !== jmpRel) out.push([l.nextLo, l.nextHi]);
  for (const s of [b.succ1, b.succ2]) if (s !== null) out.push([s.ripLo, s.ripHi]);
  return out;
}

/**
 * The blocks of a region starting at `entry`: the loops through it. Blocks
 * already decoded in the same mode (code that has run) are explored
 * breadth-first over nextRips up to the limits; those from which the entry
 * is reached again stay. Cold paths out of a loop are left out: V8 would
 * optimise them without type feedback and deoptimise when they first run.
 * The entry is member 0.
 */
export function regionMembers(entry: Block, peek: (ripLo: number, ripHi: number) => Block | null): Block[] {
  const seen = [entry];
  const next: number[][] = [];
  let insns = entry.insns.length;
  for (let q = 0; q < seen.length; q++) {
    const out: number[] = [];
    for (const [lo, hi] of nextRips(seen[q]!)) {
      const m = peek(lo, hi);
      if (m === null || m.atBreakpoint || m.modeKey !== entry.modeKey) continue;
      let t = seen.indexOf(m);
      if (t < 0) {
        if (insns + m.insns.length > MAX_REGION_INSNS || seen.length >= MAX_REGION_BLOCKS) continue;
        t = seen.length; seen.push(m); insns += m.insns.length;
      }
      out.push(t);
    }
    next.push(out);
  }
  // Keep the blocks that lead back to the entry (a fixed point over the edges found).
  const back = seen.map((_, k) => k === 0 && next[0]!.includes(0));
  for (let changed = true; changed;) {
    changed = false;
    for (let k = 0; k < seen.length; k++) if (!back[k] && next[k]!.some((t) => t === 0 || back[t])) { back[k] = true; changed = true; }
  }
  return seen.filter((_, k) => k === 0 || back[k]);
}

/** The JavaScript source of a one-block compiled function (exposed for tests and --trace-jit). */
export function blockSource(b: Block, codeBits: number): { source: string; names: string[]; values: unknown[] } {
  return regionSource([b], codeBits);
}

/**
 * The JavaScript source of a compiled region: its member blocks as cases of
 * a switch in a loop, entered at member 0. At a member's end the clock is
 * advanced by its length and, when RIP is the start of a member that is
 * still valid, fits before c.limit, and nothing asks the run loop to look
 * (blockExit, a stop request, a per-block hook, stepping), execution goes on
 * there without leaving the function: loops run inside it, which V8
 * optimises as loops. The function returns the instructions retired in the
 * member it leaves from (those before were added to c.icount), and sets the
 * block cache's last block to it (the run loop's successor cache).
 */
export function regionSource(members: Block[], codeBits: number): { source: string; names: string[]; values: unknown[] } {
  const names: string[] = ['cond', 'rot', 'cf'];
  const values: unknown[] = [condition, rotateFlags, getCF];
  const regs = new RegLocals();
  const cases: string[] = [];
  members.forEach((m, j) => {
    names.push(`B${j}`); values.push(m);
    const lines = memberBody(m, j, codeBits, regs, names, values);
    const n = m.insns.length;
    // Leaving: back to the run loop with the registers stored.
    lines.push(`c.icount += ${n};`);
    const succ = nextRips(m).map(([lo, hi]) => members.findIndex((x) => x.ripLo === lo && x.ripHi === hi)).filter((t, k, all) => t >= 0 && all.indexOf(t) === k);
    if (succ.length > 0) {
      lines.push('if (go && !c.blockExit && !c.stopRequested) {');
      for (const t of succ) {
        const mt = members[t]!;
        lines.push(`if (c.ripLo === ${mt.ripLo} && c.ripHi === ${mt.ripHi} && B${t}.valid && c.icount + ${mt.insns.length} <= c.limit) { c.fit = c.limit - ${mt.insns.length}; pc = ${t}; continue; }`);
      }
      lines.push('}');
    }
    lines.push(`c.blocks.last = B${j}; ${SYNC_OUT} return 0;`);
    cases.push(lines.join('\n'));
  });
  // A fault thrown by emitted code leaves through the catch with the registers as they were before the faulting
  // instruction; one thrown by a handler (d = 0) leaves them as the handler left them in memory, as the interpreter does.
  // `go`: whether this call may go on past its first member (the run loop's conditions for chaining compiled blocks).
  // One block that does not loop: straight code. Otherwise the members are cases of a switch in a loop.
  const loops = members.length > 1 || nextRips(members[0]!).some(([lo, hi]) => lo === members[0]!.ripLo && hi === members[0]!.ripHi);
  const body = [
    'const lo = c.lo, hi = c.hi;',
    'let a = 0, b = 0, r = 0, ah = 0, bh = 0, rh = 0, s = 0, el = 0, eh = 0, d = 1, pc = 0;',
    loops ? 'const go = c.beforeBlock === null && c.stepLimit === 0 && c.dbg === 0 && (c.flagsSys & 0x100) === 0;' : '',
    regs.prologue(),
    'try {',
    ...(loops ? ['for (;;) {', 'switch (pc) {', ...cases.map((t, j) => `case ${j}: {\n${t}\n}`), '}', '}'] : [cases[0]!]),
    `} catch (e) { if (d === 1) { ${SYNC_OUT} } throw e; }`,
  ].join('\n');
  return { source: `return function block(c) {\n${regs.render(body)}\n};`, names, values };
}

/** One member's code: its instructions, with the exits in the middle (blockExit after a write or a handler call). */
function memberBody(b: Block, j: number, codeBits: number, regs: RegLocals, names: string[], values: unknown[]): string[] {
  const insns = b.insns;
  const n = insns.length;
  const lines: string[] = [];
  const st: EmitState = { flags: null, flagsLive: true };
  // Flag liveness, backwards: all flags are live at the block's end; an
  // instruction that may fault reads them all (a fault exposes RFLAGS).
  const liveAfter = new Array<number>(n);
  let live = 63;
  for (let k = n - 1; k >= 0; k--) {
    const i = insns[k]!;
    liveAfter[k] = live;
    const inline = emit(i, i.exec, { flags: null, flagsLive: true }, codeBits);
    const reads = inline === null || inline.mayFault ? 63 : i.flagsRead;
    live = (live & ~i.flagsWrite) | reads;
  }
  // Registers whose high half this block has already zeroed (a 32-bit write) and nothing has changed since:
  // another `hi[n] = 0;` for them is dropped. Handler calls forget everything.
  const hiZero = new Set<number>();
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    const id = `i${j}_${k}`;
    names.push(id); values.push(i);
    const last = k === n - 1;
    st.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
    const e = emit(i, i.exec, st, codeBits);
    if (e !== null) {
      if (e.mayFault || last) lines.push(`c.cur = ${id}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
      lines.push(regs.rewrite(elideHiZero(e.code, hiZero)));
      if (e.writesMemory && !last) lines.push(`if (c.blockExit) { c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi}; ${SYNC_OUT} return ${k + 1}; }`);
      continue;
    }
    st.flags = null; // the handler may change the flags
    hiZero.clear(); // and any register
    const h = `h${j}_${k}`;
    names.push(h); values.push(i.exec);
    lines.push(`c.cur = ${id}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
    lines.push(`${SYNC_OUT} d = 0; ${h}(c, ${id});`);
    lines.push(`${SYNC_IN} d = 1;${last ? '' : ` if (c.blockExit) return ${k + 1};`}`);
  }
  return lines;
}

/**
 * The Cpu.checks bits that the block's inline memory accesses would bypass:
 * the segments they address (32-bit code adds segment bases without limit
 * checks), #AC and data breakpoints. Handler calls do their own checks.
 */
export function inlineCheckMask(b: Block, codeBits: number): number {
  let m = 0;
  for (const i of b.insns) {
    if (i.msize === 0 || (i.a !== -1 && i.b !== -1) || i.exec === lea) continue;
    if (emit(i, i.exec, { flags: null, flagsLive: true }, codeBits) === null) continue;
    m |= CHECK_AC | CHECK_DBG;
    if (i.seg >= 0) m |= 1 << i.seg;
  }
  return m;
}

/** Compile the region entered at a block; the result returns how many instructions it retired in the member it left from. Sets b.checkMask. */
export function compileBlock(b: Block, codeBits: number, peek: (ripLo: number, ripHi: number) => Block | null = () => null): CompiledBlock {
  const members = regionMembers(b, peek);
  let mask = 0;
  for (const m of members) mask |= inlineCheckMask(m, codeBits);
  b.checkMask = mask;
  const { source, names, values } = regionSource(members, codeBits);
  const factory = new Function(...names, source) as (...args: unknown[]) => CompiledBlock;
  return factory(...values);
}
