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
/** Placeholders for the lazy-flag fields alone: stored before emitted code reads them from the Cpu (cond, cf, rot), reloaded after rot writes them. */
const FLAGS_OUT = '/*fout*/', FLAGS_IN = '/*fin*/';
const FLAG_WRITE = /\bc\.f(Op|Size|Aux|Ah|Bh|Rh|A|B|R) =(?!=)/g;

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
  /** Lazy-flag fields (flags.ts) the emitted code sets, held in locals f<Field> the same way. */
  readonly flags = new Set<string>();
  rewrite(code: string): string {
    for (const m of code.matchAll(REG_WRITE)) this.written.add(`${m[1]}${m[2]}`);
    const reads = code.includes('cond(c') || code.includes('cf(c)') || code.includes('rot(c');
    code = code.replace(FLAG_WRITE, (_all, f: string) => { this.flags.add(f); return `f${f} =`; });
    code = code.replace(REG_REF, (_all, half: string, n: string) => { this.used.add(`${half}${n}`); return `${half === 'lo' ? 'L' : 'H'}${n}`; });
    return `${reads ? FLAGS_OUT : ''}${code}${code.includes('rot(c') ? FLAGS_IN : ''}`;
  }
  private flagsOut(): string { return [...this.flags].map((f) => `c.f${f} = f${f};`).join(' '); }
  private flagsIn(): string { return [...this.flags].map((f) => `f${f} = c.f${f};`).join(' '); }
  private static local(k: string): string { return `${k[0] === 'l' ? 'L' : 'H'}${k.slice(2)}`; }
  private static slot(k: string): string { return `${k.slice(0, 2)}[${k.slice(2)}]`; }
  /** Declarations loading every used half. */
  prologue(): string {
    return [...[...this.used].map((k) => `let ${RegLocals.local(k)} = ${RegLocals.slot(k)};`), ...[...this.flags].map((f) => `let f${f} = c.f${f};`)].join(' ');
  }
  /** Store back every half the function writes (the others still equal memory), and the flag fields. */
  out(): string { return [...[...this.written].map((k) => `${RegLocals.slot(k)} = ${RegLocals.local(k)};`), this.flagsOut()].join(' '); }
  /** Reload every used half and flag field (after a handler call). */
  in(): string { return [...[...this.used].map((k) => `${RegLocals.local(k)} = ${RegLocals.slot(k)};`), this.flagsIn()].join(' '); }
  render(body: string): string {
    return body.split(SYNC_OUT).join(this.out()).split(SYNC_IN).join(this.in()).split(FLAGS_OUT).join(this.flagsOut()).split(FLAGS_IN).join(this.flagsIn());
  }
}

/** The JavaScript source of a compiled block (exposed for tests and --trace-jit). The function returns the instructions it retired in its last pass over the block. */
export function blockSource(b: Block, codeBits: number): { source: string; names: string[]; values: unknown[] } {
  const insns = b.insns;
  const n = insns.length;
  const names: string[] = ['cond', 'rot', 'cf'];
  const values: unknown[] = [condition, rotateFlags, getCF];
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
  const regs = new RegLocals();
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    names.push(`i${k}`); values.push(i);
    const last = k === n - 1;
    st.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
    const e = emit(i, i.exec, st, codeBits);
    if (e !== null) {
      // A fault takes RIP from c.cur (run.ts); RIP itself is needed only where the block ends.
      if (last) lines.push(`c.cur = i${k}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
      else if (e.mayFault) lines.push(`c.cur = i${k};`);
      lines.push(regs.rewrite(elideHiZero(e.code, hiZero)));
      if (e.writesMemory && !last) lines.push(`if (c.blockExit) { c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi}; ${SYNC_OUT} return ${k + 1}; }`);
      continue;
    }
    st.flags = null; // the handler may change the flags
    hiZero.clear(); // and any register
    names.push(`h${k}`); values.push(i.exec);
    lines.push(`c.cur = i${k}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
    lines.push(`${SYNC_OUT} d = 0; h${k}(c, i${k});`);
    if (!last) lines.push(`${SYNC_IN} d = 1; if (c.blockExit) return ${k + 1};`);
    else lines.push(`return ${n};`);
  }
  const lastIsCall = lines[lines.length - 1] === `return ${n};`;
  // A block that branches back to its own start loops inside the function (registers stay in locals across
  // iterations): another iteration runs when RIP is back at the start, it fits before c.limit and nothing asks
  // the run loop to look (the conditions under which run.ts chains compiled blocks). Iterations done are
  // added to c.icount; the return value counts the last one, as for any block.
  const l = insns[n - 1]!;
  const loops = !lastIsCall && !b.atBreakpoint && (l.exec === jcc || l.exec === jmpRel) && l.tLo === b.ripLo && l.tHi === b.ripHi;
  const calls = names.some((x) => x.startsWith('h'));
  const ready = 'c.beforeBlock === null && c.stepLimit === 0 && c.dbg === 0 && (c.flagsSys & 0x100) === 0';
  if (loops) lines.push(`if (c.ripLo === ${b.ripLo} && c.ripHi === ${b.ripHi} && ${calls ? ready : 'go'} && !c.blockExit && !c.stopRequested && c.icount + ${2 * n} <= c.limit) { c.icount += ${n}; continue; }`);
  if (!lastIsCall) lines.push(`${SYNC_OUT} return ${n};`);
  // A fault thrown by emitted code leaves through the catch with the registers as they were before the faulting
  // instruction; one thrown by a handler (d = 0) leaves them as the handler left them in memory, as the interpreter does.
  const body = [
    'const lo = c.lo, hi = c.hi;',
    'let a = 0, b = 0, r = 0, ah = 0, bh = 0, rh = 0, s = 0, el = 0, eh = 0, d = 1;',
    loops && !calls ? `const go = ${ready};` : '',
    regs.prologue(),
    'try {', ...(loops ? ['for (;;) {', ...lines, '}'] : lines), `} catch (e) { if (d === 1) { ${SYNC_OUT} } throw e; }`,
  ].join('\n');
  return { source: `return function block(c) {\n${regs.render(body)}\n};`, names, values };
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

/** Compile a block; the result returns how many instructions it retired. Sets b.checkMask. */
export function compileBlock(b: Block, codeBits: number): CompiledBlock {
  b.checkMask = inlineCheckMask(b, codeBits);
  const { source, names, values } = blockSource(b, codeBits);
  const factory = new Function(...names, source) as (...args: unknown[]) => CompiledBlock;
  return factory(...values);
}
