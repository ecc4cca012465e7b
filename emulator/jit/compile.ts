// Block compilation: a hot block becomes one generated JS function. The
// commonest instructions are emitted inline (emit.ts); the rest call their
// handler directly, so every call site is monomorphic (the interpreter's
// `i.exec(c, i)` is megamorphic). RIP and the current instruction are
// stored only before instructions that can fault or that end the block.
import type { Cpu } from '../cpu.ts';
import type { Block, Insn } from '../insn.ts';
import type { BlockCache } from '../blockcache.ts';
import { condition, getCF } from '../flags.ts';
import { emit, CUR, inlineStack, type EmitState } from './emit.ts';
import { stackCanonical } from '../ops/stack.ts';
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
  /** The written set now, to restore when code generation goes back to this point (another branch). */
  fork(): Set<string> { return new Set(this.written); }
  restore(at: Set<string>): void { this.written.clear(); for (const k of at) this.written.add(k); }
  /** Remember what has been written so far; returns the snapshot's number. */
  snapshot(): number { this.snaps.push([...this.written]); return this.snaps.length - 1; }
  /** Marker for storing back everything written so far (before a handler call, at an exit). */
  out(): string { return `/*out:${this.snapshot()}*/`; }
  /** Where a local lives in the Cpu: c.f<Field>, lo[n] or hi[n]. */
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
  catchOut(sites: [number, number][], others: [string, number][] = []): string {
    if (this.loops || sites.length + others.length === 0) return `/*out:all*/`;
    // Cumulative: a fault at a later site falls through the stores of the earlier ones.
    const parts: string[] = [];
    for (let j = sites.length - 1; j >= 0; j--) {
      const [pos, snap] = sites[j]!;
      const before = j === 0 ? new Set<string>() : new Set(this.snaps[sites[j - 1]![1]]);
      parts.push(`case ${pos}: ${this.stores(this.snaps[snap]!.filter((k) => !before.has(k)))}`);
    }
    const own = `switch (c.cur === null ? -1 : c.cur.pos) { ${parts.join(' ')} }`;
    // A successor's access (its instructions' positions repeat the first block's): named, with its path's stores.
    return [...others.map(([name, snap]) => `if (c.cur === ${name}) { ${this.stores(this.snaps[snap]!)} } else `), `{ ${own} }`].join('');
  }
  render(body: string): string {
    const all = [...this.written];
    return body.replace(OUT_MARK, (_m, n: string) => this.stores(n === 'all' || this.loops ? all : this.snaps[Number(n)]!))
      .replace(FLAGS_OUT_MARK, (_m, n: string) => this.stores(this.loops ? all : this.snaps[Number(n)]!, true))
      .split(SYNC_IN).join([...this.used].map((k) => `${k} = ${RegLocals.slot(k)};`).join(' '));
  }
}

/** What the blocks of one compiled function share while their code is generated. */
interface Gen {
  codeBits: number;
  names: string[];
  values: unknown[];
  regs: RegLocals;
  /** The first block's memory accesses: [Insn.pos, write-back snapshot before it] (its catch switch). */
  headSites: [number, number][];
  /** The other blocks' accesses: [the instruction's name, snapshot] (their own catch cases). */
  otherSites: [string, number][];
  calls: boolean;
}

/**
 * Source lines for one block's instructions, each named `<tag><k>`. The first
 * block may call handlers; a successor block (`head` false) has none (emitted
 * code only). Ends with the block's own write-back and `return <count>`
 * unless `open` (the caller continues after its last instruction).
 */
function segment(g: Gen, blk: Block, tag: string, head: boolean, open: boolean): string[] {
  const { codeBits, regs } = g;
  const insns = blk.insns, n = insns.length;
  const lines: string[] = [];
  const st: EmitState = { flags: null, flagsLive: true };
  // Flag liveness, backwards: all flags are live at the block's end; an
  // instruction that may fault reads them all (a fault exposes RFLAGS).
  const liveAfter = new Array<number>(n);
  let live = 63;
  for (let k = n - 1; k >= 0; k--) {
    const i = insns[k]!;
    liveAfter[k] = live;
    const e = emit(i, i.exec, { flags: null, flagsLive: true }, codeBits);
    const reads = e === null || e.mayFault ? 63 : i.flagsRead;
    live = (live & ~i.flagsWrite) | reads;
  }
  // Registers whose high half this block has already zeroed (a 32-bit write) and nothing has changed since:
  // another `hi[n] = 0;` for them is dropped. Handler calls forget everything.
  const hiZero = new Set<number>();
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    const name = `${tag}${k}`;
    g.names.push(name); g.values.push(i);
    const last = k === n - 1;
    st.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
    const e = emit(i, i.exec, st, codeBits);
    if (e !== null) {
      // RIP is needed only where the block ends; a memory access names its instruction (c.cur) for faults and write records.
      if (last) lines.push(`c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
      if (e.mayFault) { if (head) g.headSites.push([i.pos, regs.snapshot()]); else g.otherSites.push([name, regs.snapshot()]); }
      lines.push(regs.rewrite(elideHiZero(e.code, hiZero)).split(CUR).join(`c.cur = ${name};`));
      // A write that reached a code page ends the block after this instruction (c.blockExit).
      if (e.writesMemory && !last) lines.push(`if (c.blockExit) { ${regs.out()} c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi}; return ${k + 1}; }`);
      continue;
    }
    g.calls = true;
    st.flags = null; // the handler may change the flags
    hiZero.clear(); // and any register
    g.names.push(`h${tag}${k}`); g.values.push(i.exec);
    lines.push(`c.cur = ${name}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
    lines.push(`${regs.out()} d = 0; h${tag}${k}(c, ${name});`);
    if (!last) lines.push(`${SYNC_IN} d = 1; if (c.blockExit) return ${k + 1};`);
    else lines.push(`return ${n};`);
  }
  const l = insns[n - 1]!;
  if (!open && inline(l, codeBits)) lines.push(`${regs.out()} return ${n};`);
  return lines;
}

/** Whether an instruction is emitted inline (not a handler call). */
function inline(i: Insn, codeBits: number): boolean {
  return emit(i, i.exec, { flags: null, flagsLive: true }, codeBits) !== null;
}

/** A block a compiled function goes on into, and the blocks it goes on into in turn. */
export interface RegionNode { block: Block; next: RegionNode[] }

/** How many blocks deep a compiled function follows conditional branches (each level doubles its code at most). */
export const REGION_DEPTH = 2;

/**
 * The blocks a block ending in a conditional branch runs inside its own
 * function: its two sides, when execution has gone to them (the successor
 * cache) and they are valid, in the same mode, without breakpoints or
 * handler calls; and theirs, REGION_DEPTH levels deep. This saves a return
 * to the run loop, and the register loads and stores around it, on every
 * branch of code made of short blocks (the xz decoder's bit decoding).
 */
export function regionTree(b: Block, codeBits: number, depth = REGION_DEPTH): RegionNode[] {
  const l = b.insns[b.insns.length - 1]!;
  if (depth === 0 || codeBits !== 64 || l.exec !== jcc || b.atBreakpoint) return [];
  if (!inline(l, codeBits)) return [];
  if (l.tLo === b.ripLo && l.tHi === b.ripHi) return []; // a loop runs in its own function (blockSource)
  const out: RegionNode[] = [];
  for (const [lo, hi] of [[l.tLo, l.tHi], [l.nextLo, l.nextHi]] as const) {
    const s = b.succ1 !== null && b.succ1.ripLo === lo && b.succ1.ripHi === hi ? b.succ1 : b.succ2 !== null && b.succ2.ripLo === lo && b.succ2.ripHi === hi ? b.succ2 : null;
    if (s === null || s === b || !s.valid || s.modeKey !== b.modeKey || s.atBreakpoint || s.zeroFilled || !s.insns.every((i) => inline(i, codeBits))) continue;
    if (out.some((x) => x.block === s)) continue;
    out.push({ block: s, next: regionTree(s, codeBits, depth - 1) });
  }
  return out;
}

/** Every block of a region tree, and the most instructions one path through it retires. */
function regionBlocks(nodes: RegionNode[]): Block[] { return nodes.flatMap((x) => [x.block, ...regionBlocks(x.next)]); }
function regionSpan(nodes: RegionNode[]): number { return nodes.reduce((m, x) => Math.max(m, x.block.insns.length + regionSpan(x.next)), 0); }

/**
 * After a block of `n` instructions: go on into whichever successor starts
 * at RIP, when the run loop would have chained to it (`ready`, no stop, no
 * check its accesses skip; the budget is checked up front against the
 * span). Each successor's code ends the function, or goes on into its own
 * successors (regionTree).
 */
function goOn(g: Gen, n: number, nodes: RegionNode[], ready: string): string[] {
  const lines: string[] = [];
  const after = g.regs.fork();
  for (const node of nodes) {
    const s = node.block, j = g.names.length;
    const mask = inlineCheckMask(s, g.codeBits);
    g.names.push(`S${j}`); g.values.push(s);
    lines.push(`if (c.ripLo === ${s.ripLo} && c.ripHi === ${s.ripHi} && ${ready} && !c.blockExit && !c.stopRequested && (c.checks & ${mask}) === 0) { c.icount += ${n}; c.tail = S${j};`);
    const m = s.insns.length;
    lines.push(...segment(g, s, `s${j}_`, false, node.next.length > 0));
    if (node.next.length > 0) lines.push(...goOn(g, m, node.next, ready), `${g.regs.out()} return ${m};`);
    lines.push('}');
    g.regs.restore(after);
  }
  return lines;
}

/**
 * The JavaScript source of a compiled block (exposed for tests and
 * --trace-jit), with the successors it runs inline (regionTree). The
 * function returns the instructions it retired in its last block; earlier
 * ones (a loop's passes, the first block before a successor) are added to
 * c.icount as they complete.
 */
export function blockSource(b: Block, codeBits: number, successors: RegionNode[] = []): { source: string; names: string[]; values: unknown[] } {
  const insns = b.insns;
  const n = insns.length;
  // A block that branches back to its own start loops inside the function (registers stay in locals across
  // iterations): another iteration runs when RIP is back at the start, it fits before c.limit and nothing asks
  // the run loop to look (the conditions under which run.ts chains compiled blocks). Iterations done are
  // added to c.icount; the return value counts the last one, as for any block.
  const l = insns[n - 1]!;
  const loops = inline(l, codeBits) && !b.atBreakpoint
    && (l.exec === jcc || l.exec === jmpRel) && l.tLo === b.ripLo && l.tHi === b.ripHi;
  const regs = new RegLocals(loops);
  const g: Gen = { codeBits, names: ['cond', 'cf', 'stk'], values: [condition, getCF, stackCanonical], regs, headSites: [], otherSites: [], calls: false };
  const lines = segment(g, b, 'i', true, loops || successors.length > 0);
  const ready = 'c.beforeBlock === null && c.stepLimit === 0 && c.dbg === 0 && (c.flagsSys & 0x100) === 0';
  if (loops) {
    lines.push(`if (c.ripLo === ${b.ripLo} && c.ripHi === ${b.ripHi} && ${g.calls ? ready : 'go'} && !c.blockExit && !c.stopRequested && c.icount + ${2 * n} <= c.limit) { c.icount += ${n}; continue; }`);
    lines.push(`${regs.out()} return ${n};`);
  } else if (successors.length > 0) {
    lines.push(...goOn(g, n, successors, g.calls ? ready : 'go'), `${regs.out()} return ${n};`);
  }
  // A fault thrown by emitted code leaves through the catch with the registers as they were before the faulting
  // instruction; one thrown by a handler (d = 0) leaves them as the handler left them in memory, as the interpreter does.
  const needGo = !g.calls && (loops || successors.length > 0);
  const body = [
    'const lo = c.lo, hi = c.hi;',
    'let a = 0, b = 0, r = 0, ah = 0, bh = 0, rh = 0, s = 0, el = 0, eh = 0, x = 0, d = 1;',
    needGo ? `const go = ${ready};` : '',
    regs.prologue(),
    'try {', ...(loops ? ['for (;;) {', ...lines, '}'] : lines), `} catch (e) { if (d === 1) { ${regs.catchOut(g.headSites, g.otherSites)} } throw e; }`,
  ].join('\n');
  return { source: `return function ${blockName(b)}(c) {\n${regs.render(body)}\n};`, names: g.names, values: g.values };
}

/** A compiled function's name: its guest address (profiles and stack traces attribute time to guest code). */
function blockName(b: Block): string {
  return `block_${(b.linHi >>> 0).toString(16)}_${(b.linLo >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * The Cpu.checks bits that the block's inline memory accesses would bypass:
 * the segments they address (32-bit code adds segment bases without limit
 * checks), #AC and data breakpoints. Handler calls do their own checks.
 */
export function inlineCheckMask(b: Block, codeBits: number): number {
  let m = 0;
  for (const i of b.insns) {
    if (inlineStack(i, codeBits)) { m |= CHECK_AC | CHECK_DBG; continue; }
    if (i.msize === 0 || (i.a !== -1 && i.b !== -1) || i.exec === lea) continue;
    if (!inline(i, codeBits)) continue;
    m |= CHECK_AC | CHECK_DBG;
    if (i.seg >= 0) m |= 1 << i.seg;
  }
  return m;
}

/**
 * Compile a block; the result returns how many instructions it retired in
 * its last block. Sets b.checkMask and b.span (the most instructions one call
 * can retire: the block and its longest inline successor). With `cache`, the
 * successors it runs inline are eligible (regionTree) and a write to
 * their code invalidates this block too.
 */
export function compileBlock(b: Block, codeBits: number, cache: BlockCache | null = null): CompiledBlock {
  const tree = cache !== null ? regionTree(b, codeBits) : [];
  const others = regionBlocks(tree);
  b.checkMask = others.reduce((m, s) => m | inlineCheckMask(s, codeBits), inlineCheckMask(b, codeBits));
  b.span = b.insns.length + regionSpan(tree);
  const { source, names, values } = blockSource(b, codeBits, tree);
  const factory = new Function(...names, source) as (...args: unknown[]) => CompiledBlock;
  for (const s of others) cache!.dependOn(b, s);
  return factory(...values);
}
