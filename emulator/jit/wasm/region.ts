// Several blocks in one Wasm function: a hot block and the blocks execution
// went to from it (their successor caches), each entered through a br_table
// on the block's index, with the branches between them staying inside the
// function while the budget allows. The variant of "a whole loop of blocks
// inside one Wasm function": the run loop and the JS-to-Wasm call are left
// only when control leaves the region. Every block in it is emitted inline
// (no handler calls); all nine flag fields are loaded at entry and stored
// at the exit.
import type { Cpu } from '../../cpu.ts';
import type { Block } from '../../insn.ts';
import { jcc, jmpRel, callRel, ret } from '../../ops/branch.ts';
import { inlineCheckMask } from '../compile.ts';
import { Op, I32, encodeModule, uleb } from './encode.ts';
import { Fn } from './fn.ts';
import { cfFunction, condFunction, FLAG_PARAMS } from './flags.ts';
import { Gen, liveness, inlineForm, IMPORTS, F_ALL, type Usage } from './gen.ts';
import { form } from './forms.ts';
import { memoryImports, chainReady, type FaultBox } from './glue.ts';
import { WasmMachine, REG_LO, REG_HI, FLAGS, RIP, FAULT, STOP, PASSES, CUR_BLOCK, FLAG_FIELDS } from './machine.ts';

const DONE = PASSES;

/** Most blocks in one region. */
export const REGION_BLOCKS = 16;

/** Whether every instruction of a block is emitted inline. */
export function allInline(b: Block): boolean { return b.insns.every((i) => inlineForm(i) !== null); }

/**
 * Where a block's last instruction can go: its branch target and fall-through
 * (jcc), its target (jmp, call), where it has returned to lately (ret: the
 * successor cache), or the next instruction.
 */
function exits(b: Block): [number, number][] {
  const l = b.insns[b.insns.length - 1]!;
  if (l.exec === jcc) return [[l.tLo, l.tHi], [l.nextLo, l.nextHi]];
  if (l.exec === jmpRel || l.exec === callRel) return [[l.tLo, l.tHi]];
  if (l.exec === ret) return [b.succ1, b.succ2].filter((x) => x !== null).map((x) => [x.ripLo, x.ripHi]);
  return [[l.nextLo, l.nextHi]];
}

/** The blocks a region of `head` holds: breadth first through the successor caches, all inline, same mode, `max` at most. */
export function regionOf(head: Block, max = REGION_BLOCKS): Block[] {
  if (!allInline(head) || head.atBreakpoint) return [head];
  const out = [head];
  for (let q = 0; q < out.length && out.length < max; q++) {
    const b = out[q]!;
    for (const [lo, hi] of exits(b)) {
      for (const s of [b.succ1, b.succ2]) {
        if (s === null || s.ripLo !== lo || s.ripHi !== hi || out.includes(s) || out.length >= max) continue;
        if (!s.valid || s.modeKey !== head.modeKey || s.atBreakpoint || s.zeroFilled || !allInline(s)) continue;
        out.push(s);
      }
    }
  }
  return out;
}

function generate(blocks: Block[], prior: Usage | null): { g: Gen; cur: number; done: number } | null {
  const g = new Gen(blocks[0]!, false, prior);
  const f = g.f, N = blocks.length;
  const cur = f.local(I32), done = f.local(I32);
  g.written = F_ALL; g.everWritten = F_ALL; // every flag field is loaded at entry
  g.exitDepth = f.open(Op.block);
  const top = f.open(Op.loop);
  // Block j's code starts where the wrapper opened (N - 1 - j)th ends: from block j's code, the wrappers of the
  // blocks after it are still open, so a forward edge is a direct br; only backward edges go round the loop
  // through the br_table (fewer merges at the loop header for the Wasm compiler too).
  const wrapper: number[] = [];
  for (let j = 0; j < N; j++) wrapper.push(f.open(Op.block));
  const starts = (k: number) => wrapper[N - 1 - k]!;
  // Dispatch: br_table to the end of block j's wrapper, where its code starts.
  f.get(cur).op(0x0e);
  uleb(N, f.body);
  for (let j = 0; j < N; j++) uleb(j, f.body);
  uleb(N - 1, f.body);
  const index = (lo: number, hi: number) => blocks.findIndex((x) => x.ripLo === lo && x.ripHi === hi);
  const returnSites = blocks.map((x) => x.insns[x.insns.length - 1]!).filter((l) => l.exec === callRel).map((l): [number, number] => [l.nextLo, l.nextHi]);
  for (let j = 0; j < N; j++) {
    f.close();
    const b = blocks[j]!, insns = b.insns, n = insns.length;
    g.blk = b; g.known = null;
    // The state area learns the current block and the count before it only when JS may look: before a slow-path
    // import (c.cur, c.icount) and at the exit (the epilogue stores `done` and `cur`).
    g.beforeImport = () => { f.i32(0).get(done).mem(Op.i32Store, DONE).i32(0).i32(j).mem(Op.i32Store, CUR_BLOCK); };
    g.beforeExit = () => { f.i32(j).set(cur); };
    const liveAfter = liveness(insns);
    for (let k = 0; k < n; k++) {
      const i = insns[k]!;
      g.pos = k;
      g.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
      const last = k === n - 1;
      const e = inlineForm(i);
      if (e === null) return null;
      if (last && (i.exec === jcc || i.exec === jmpRel)) {
        if (i.exec === jcc) g.condition(i.op); else f.i32(1);
        f.set(g.t);
        break;
      }
      if (!form(g, i, last)) return null;
      if (!last && e.writesMemory) {
        f.get(g.wexit);
        f.open(Op.if); g.storeRip(i.nextLo, i.nextHi); g.exit(k + 1); f.close();
      }
      if (last) f.i32(1).set(g.t); // falls through to the next instruction: the "taken" edge below
    }
    // Edges: go on into a region block when its instructions fit the budget and no import asked to stop.
    const edge = (lo: number, hi: number) => {
      const to = index(lo, hi);
      if (to >= 0) {
        f.get(done).i32(n).op(Op.i32Add).tee(g.r).i32(blocks[to]!.insns.length).op(Op.i32Add).get(0).op(Op.i32LeU)
          .i32(0).mem(Op.i32Load, STOP).op(Op.i32Eqz).op(Op.i32And);
        f.open(Op.if);
        f.get(g.r).set(done);
        if (to > j) f.br(starts(to));
        else f.i32(to).set(cur).br(top);
        f.close();
      }
      g.storeRip(lo, hi); g.exit(n);
    };
    const l = insns[n - 1]!;
    if (l.exec === ret) {
      // The popped RIP (g.T, already stored) against the region's blocks it has returned to and the return sites
      // of the region's calls (a helper called from several places); else leave.
      for (const to of new Set([...exits(b), ...returnSites].map(([lo, hi]) => index(lo, hi)).filter((k) => k >= 0))) {
        const { ripLo: lo, ripHi: hi } = blocks[to]!;
        f.get(g.T).i64(lo, hi).op(Op.i64Eq);
        f.open(Op.if); edge(lo, hi); f.close();
      }
      g.exit(n);
      continue;
    }
    const [first, second] = exits(b) as [[number, number], [number, number] | undefined];
    if (second === undefined) edge(first[0], first[1]);
    else {
      f.get(g.t);
      f.open(Op.if); edge(first[0], first[1]);
      f.else(); edge(second[0], second[1]);
      f.close();
    }
  }
  f.close(); // loop
  f.close(); // exit block
  return { g, cur, done };
}

export interface WasmRegionInfo { bytes: number; blocks: number }

/** A compiled region's wrappers: `enter(j)` runs it from its block j (0: the head). */
export interface CompiledRegion { blocks: Block[]; enter(j: number): (c: Cpu) => number }

/** Compile a region (regionOf) to one Wasm function and its JS wrappers; null when some instruction needs a handler. */
export function compileWasmRegion(blocks: Block[], m: WasmMachine, cpu: Cpu, info?: WasmRegionInfo): CompiledRegion | null {
  const first = generate(blocks, null);
  if (first === null) return null;
  const second = generate(blocks, first.g.usage());
  if (second === null) return null;
  const { g, cur } = second, u = g.usage();
  const pro = new Fn([I32]);
  pro.i32(0).mem(Op.i32Load, CUR_BLOCK).set(cur); // the entry block (wrapRegion's enter)
  for (const r of u.regsUsed) pro.loadPair(REG_LO + 4 * r, REG_HI + 4 * r).set(g.reg(r));
  FLAG_FIELDS.forEach((_, k) => { pro.i32(0).mem(Op.i32Load, FLAGS + 4 * k).set(g.fl[k]!); });
  const epi = new Fn([I32]);
  epi.i32(0).get(second.done).mem(Op.i32Store, DONE).i32(0).get(cur).mem(Op.i32Store, CUR_BLOCK);
  for (const r of u.regsWritten) epi.storePair(g.reg(r), REG_LO + 4 * r, REG_HI + 4 * r);
  FLAG_FIELDS.forEach((_, k) => { epi.i32(0).get(g.fl[k]!).mem(Op.i32Store, FLAGS + 4 * k); });
  epi.get(g.ret);
  const funcs = [{ type: { params: [I32], results: [I32] }, locals: g.f.locals, body: [...pro.body, ...g.f.body, ...epi.body] }];
  if (u.cf) { const h = cfFunction(); funcs.push({ type: { params: FLAG_PARAMS, results: [I32] }, locals: h.locals, body: h.body }); }
  if (u.cond) { const h = condFunction(); funcs.push({ type: { params: [...FLAG_PARAMS, I32], results: [I32] }, locals: h.locals, body: h.body }); }
  const bytes = encodeModule({ imports: IMPORTS, memoryPages: m.pages, funcs });
  if (info !== undefined) { info.bytes = bytes.length; info.blocks = blocks.length; }
  return wrapRegion(blocks, m, cpu, new WebAssembly.Module(bytes as BufferSource));
}

/**
 * The JS side of a region: one instance, and per entry block j a wrapper
 * that starts the br_table dispatch at j (a block of the region that became
 * hot by itself runs the region's code instead of a copy of it).
 */
function wrapRegion(blocks: Block[], m: WasmMachine, c: Cpu, mod: WebAssembly.Module): CompiledRegion {
  const s = m.s32;
  const st: FaultBox & { i0: number } = { fault: null, i0: 0 };
  const at = (pos: number) => blocks[s[CUR_BLOCK / 4]!]!.insns[pos]!;
  const sync = () => { c.icount = st.i0 + s[DONE / 4]!; };
  const ready = () => chainReady(c);
  const imports = {
    mem: m.memory,
    ...memoryImports(c, s, at, sync, st),
    call(): number { throw new Error('region blocks have no handler calls'); },
  };
  const run = new WebAssembly.Instance(mod, { env: imports }).exports.run as (max: number) => number;
  const F = FLAGS / 4;
  const slowExit = (r: number, j: number): number => {
    if (r < 0) {
      s[FAULT / 4] = 0;
      const e = st.fault!; st.fault = null;
      c.cur = blocks[j]!.insns[-r - 1]!;
      throw e;
    }
    return r;
  };
  const enter = (e: number): ((c: Cpu) => number) => {
    const src = [
      'return function wasmRegion(c) {',
      FLAG_FIELDS.map((x, k) => `s[${F + k}] = c.${x};`).join(' '),
      `s[${STOP / 4}] = 0; s[${DONE / 4}] = 0; s[${CUR_BLOCK / 4}] = ${e}; st.i0 = c.icount;`,
      `const r = run(ready() ? Math.min(c.limit - c.icount, 1e9) : ${blocks[e]!.insns.length});`,
      `c.ripLo = s[${RIP / 4}]; c.ripHi = s[${RIP / 4 + 1}];`,
      FLAG_FIELDS.map((x, k) => `c.${x} = s[${F + k}];`).join(' '),
      `const j = s[${CUR_BLOCK / 4}]; c.icount = st.i0 + s[${DONE / 4}];`,
      `if (j !== ${e}) c.tail = blocks[j];`,
      'if (r < 0) return slowExit(r, j);',
      'return r;',
      '};',
    ].join('\n');
    return (new Function('s', 'st', 'run', 'ready', 'slowExit', 'blocks', src) as (...a: unknown[]) => (c: Cpu) => number)(s, st, run, ready, slowExit, blocks);
  };
  return { blocks, enter };
}

/** Cpu.checks bits any block of the region cannot honour. */
export function regionCheckMask(blocks: Block[]): number { return blocks.reduce((m, b) => m | inlineCheckMask(b, 64), 0); }
