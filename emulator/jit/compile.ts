// Block compilation: a hot block becomes one generated JS function. The
// commonest instructions are emitted inline (emit.ts); the rest call their
// handler directly, so every call site is monomorphic (the interpreter's
// `i.exec(c, i)` is megamorphic). RIP and the current instruction are
// stored only before instructions that can fault or that end the block.
import type { Cpu } from '../cpu.ts';
import type { Block } from '../insn.ts';
import { condition, getCF } from '../flags.ts';
import { emit, CUR, type EmitState } from './emit.ts';
import { lea } from '../ops/move.ts';
import { CHECK_AC, CHECK_DBG } from '../regs.ts';
import { jcc, jmpRel } from '../ops/branch.ts';

/** Executions of a block before it is compiled (Cpu.jitThreshold; 0 disables the compiler). */
export const DEFAULT_COMPILE_THRESHOLD = 40;

export type CompiledBlock = (c: Cpu) => number;

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
const FLAG_WRITE = /\bc\.f(Op|Size|Aux|Ah|Bh|Rh|A|B|R) =(?!=)/g;
const FLAG_READ = /\bc\.f(Op|Size|Aux|Ah|Bh|Rh|A|B|R)\b/g;
/** A local's name in rewritten code (L3, H3, fA), and whether this occurrence assigns it. */
const LOCAL_REF = /\b([LH]\d+|f(?:Op|Size|Aux|Ah|Bh|Rh|A|B|R))\b( =(?!=))?/g;
/** Placeholders rendered once the block is known: write-back of snapshot N, the flags alone of snapshot N, reload of everything. */
const OUT_MARK = /\/\*out:(\d+|all)\*\//g, FLAGS_OUT_MARK = /\/\*fout:(\d+)\*\//g, SYNC_IN = '/*in*/';

/**
 * Guest registers (L<n>, H<n> for lo[n], hi[n]) and lazy-flag fields (f<Field>
 * for c.f<Field>, flags.ts) held in JS locals for the whole compiled
 * function, so V8 keeps them in machine registers instead of loading and
 * storing the Int32Arrays per instruction. Emitted code names registers as
 * `lo[n]`/`hi[n]` and flag fields as `c.f<Field>`; `rewrite` renames them,
 * instruction by instruction in program order. A local is loaded at entry
 * only if the block may read it before writing it, and each exit (return,
 * handler call, a fault's catch) stores back only what was written before
 * it: small blocks that set a register's high half to 0 or overwrite the
 * flags never load them. A block that loops inside its function loads every
 * local and stores every written one (any of them may have been written by
 * the last pass). Handler calls see the CPU in memory and may change
 * anything: every local is reloaded after them.
 */
class RegLocals {
  /** Every local referenced. */
  private readonly used = new Set<string>();
  /** Locals read (or written only conditionally) before any write: loaded at entry. */
  private readonly entry = new Set<string>();
  /** Locals written so far, in program order. */
  private readonly written = new Set<string>();
  /** The `written` set at each positional write-back marker. */
  private readonly snaps: string[][] = [];
  constructor(private readonly loops: boolean) {}

  /** Rename one instruction's registers and flag fields to locals, recording what it reads and writes. */
  rewrite(code: string): string {
    const callsFlagReader = code.includes('cond(c') || code.includes('cf(c)');
    code = code.replace(FLAG_WRITE, (_all, f: string) => `f${f} =`).replace(FLAG_READ, (_all, f: string) => `f${f}`)
      .replace(REG_REF, (_all, half: string, n: string) => `${half === 'lo' ? 'L' : 'H'}${n}`);
    // Reads anywhere in the instruction count as coming before its writes; a write under `if` may not
    // happen, so the local must hold the old value: loaded at entry unless written before.
    const conditional = code.includes('if (');
    const writes: string[] = [];
    for (const m of code.matchAll(LOCAL_REF)) {
      const k = m[1]!;
      this.used.add(k);
      if (m[2] !== undefined) writes.push(k);
      if ((m[2] === undefined || conditional) && !this.written.has(k)) this.entry.add(k);
    }
    const pre = callsFlagReader ? `/*fout:${this.snapshot()}*/` : '';
    for (const k of writes) this.written.add(k);
    return pre + code;
  }
  /** Remember what has been written so far; returns the snapshot's number. */
  snapshot(): number { this.snaps.push([...this.written]); return this.snaps.length - 1; }
  /** Marker for storing back everything written so far (before a handler call, at an exit). */
  out(): string { return `/*out:${this.snapshot()}*/`; }
  /** Marker for the catch of a fault at `pos`-th instruction... see catchOut. */
  private static slot(k: string): string { return k[0] === 'f' ? `c.${k}` : `${k[0] === 'L' ? 'lo' : 'hi'}[${k.slice(1)}]`; }
  private stores(keys: Iterable<string>, flagsOnly = false): string {
    return [...keys].filter((k) => !flagsOnly || k[0] === 'f').map((k) => `${RegLocals.slot(k)} = ${k};`).join(' ');
  }
  /** Declarations: loaded at entry where needed, else 0 (never stored before written). */
  prologue(): string {
    return [...this.used].map((k) => `let ${k} = ${this.loops || this.entry.has(k) ? RegLocals.slot(k) : '0'};`).join(' ');
  }
  /**
   * The catch's write-back: what was written before the faulting instruction
   * (the one c.cur names; only memory accesses fault in emitted code). `sites`
   * pairs each access's instruction position (Insn.pos) with its snapshot, in order.
   */
  catchOut(sites: [number, number][]): string {
    if (this.loops || sites.length === 0) return `/*out:all*/`;
    // Cumulative: a fault at a later site falls through the stores of the earlier ones.
    const parts: string[] = [];
    for (let j = sites.length - 1; j >= 0; j--) {
      const [pos, snap] = sites[j]!;
      const before = j === 0 ? new Set<string>() : new Set(this.snaps[sites[j - 1]![1]]);
      parts.push(`case ${pos}: ${this.stores(this.snaps[snap]!.filter((k) => !before.has(k)))}`);
    }
    return `switch (c.cur === null ? -1 : c.cur.pos) { ${parts.join(' ')} }`;
  }
  render(body: string): string {
    const all = [...this.written];
    return body.replace(OUT_MARK, (_m, n: string) => this.stores(n === 'all' || this.loops ? all : this.snaps[Number(n)]!))
      .replace(FLAGS_OUT_MARK, (_m, n: string) => this.stores(this.loops ? all : this.snaps[Number(n)]!, true))
      .split(SYNC_IN).join([...this.used].map((k) => `${k} = ${RegLocals.slot(k)};`).join(' '));
  }
}

/** The JavaScript source of a compiled block (exposed for tests and --trace-jit). The function returns the instructions it retired in its last pass over the block. */
export function blockSource(b: Block, codeBits: number): { source: string; names: string[]; values: unknown[] } {
  const insns = b.insns;
  const n = insns.length;
  const names: string[] = ['cond', 'cf'];
  const values: unknown[] = [condition, getCF];
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
  // A block that branches back to its own start loops inside the function (registers stay in locals across
  // iterations): another iteration runs when RIP is back at the start, it fits before c.limit and nothing asks
  // the run loop to look (the conditions under which run.ts chains compiled blocks). Iterations done are
  // added to c.icount; the return value counts the last one, as for any block.
  const l = insns[n - 1]!;
  const loops = emit(l, l.exec, { flags: null, flagsLive: true }, codeBits) !== null && !b.atBreakpoint
    && (l.exec === jcc || l.exec === jmpRel) && l.tLo === b.ripLo && l.tHi === b.ripHi;
  // Registers whose high half this block has already zeroed (a 32-bit write) and nothing has changed since:
  // another `hi[n] = 0;` for them is dropped. Handler calls forget everything.
  const hiZero = new Set<number>();
  const regs = new RegLocals(loops);
  /** Memory accesses that may fault, as [instruction position, write-back snapshot before it]. */
  const faultSites: [number, number][] = [];
  let calls = false;
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    names.push(`i${k}`); values.push(i);
    const last = k === n - 1;
    st.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
    const e = emit(i, i.exec, st, codeBits);
    if (e !== null) {
      // RIP is needed only where the block ends; a memory access names its instruction (c.cur) for faults and write records.
      if (last) lines.push(`c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
      if (e.mayFault) faultSites.push([i.pos, regs.snapshot()]);
      lines.push(regs.rewrite(elideHiZero(e.code, hiZero)).split(CUR).join(`c.cur = i${k};`));
      // A write that reached a code page ends the block after this instruction (c.blockExit).
      if (e.writesMemory && !last) lines.push(`if (c.blockExit) { ${regs.out()} c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi}; return ${k + 1}; }`);
      continue;
    }
    calls = true;
    st.flags = null; // the handler may change the flags
    hiZero.clear(); // and any register
    names.push(`h${k}`); values.push(i.exec);
    lines.push(`c.cur = i${k}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
    lines.push(`${regs.out()} d = 0; h${k}(c, i${k});`);
    if (!last) lines.push(`${SYNC_IN} d = 1; if (c.blockExit) return ${k + 1};`);
    else lines.push(`return ${n};`);
  }
  const ready = 'c.beforeBlock === null && c.stepLimit === 0 && c.dbg === 0 && (c.flagsSys & 0x100) === 0';
  if (loops) lines.push(`if (c.ripLo === ${b.ripLo} && c.ripHi === ${b.ripHi} && ${calls ? ready : 'go'} && !c.blockExit && !c.stopRequested && c.icount + ${2 * n} <= c.limit) { c.icount += ${n}; continue; }`);
  if (emit(l, l.exec, { flags: null, flagsLive: true }, codeBits) !== null) lines.push(`${regs.out()} return ${n};`);
  // A fault thrown by emitted code leaves through the catch with the registers as they were before the faulting
  // instruction; one thrown by a handler (d = 0) leaves them as the handler left them in memory, as the interpreter does.
  const body = [
    'const lo = c.lo, hi = c.hi;',
    'let a = 0, b = 0, r = 0, ah = 0, bh = 0, rh = 0, s = 0, el = 0, eh = 0, x = 0, d = 1;',
    loops && !calls ? `const go = ${ready};` : '',
    regs.prologue(),
    'try {', ...(loops ? ['for (;;) {', ...lines, '}'] : lines), `} catch (e) { if (d === 1) { ${regs.catchOut(faultSites)} } throw e; }`,
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
