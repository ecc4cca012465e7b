// The WebAssembly block backend (the default block compiler,
// docs/cpu-core.md): a block becomes one Wasm function over the
// shared memory of machine.ts. Guest registers are i64 locals, loaded from
// the register file at entry and stored back at the exit; the lazy-flag
// fields are i32 locals that end up in the Cpu exactly as the JS backend
// leaves them (a JS wrapper copies them through the transfer area); memory
// accesses check the Cpu's TLB inline and read or write guest RAM directly,
// calling into JS only on a miss. The forms emitted inline are the ones
// jit/emit.ts inlines (its `emit` decides); other instructions call their
// handler through an import, with registers and flags in memory around it.
import type { Cpu } from '../../cpu.ts';
import type { Block, Insn } from '../../insn.ts';
import { jcc, jmpRel } from '../../ops/branch.ts';
import { Op, I32, encodeModule } from './encode.ts';
import { Fn } from './fn.ts';
import { cfFunction, condFunction, FLAG_PARAMS } from './flags.ts';
import { Gen, liveness, inlineForm, IMPORTS, type Usage } from './gen.ts';
import { form, setsRip } from './forms.ts';
import { memoryImports, importCalls, catchFault, chainReady, type FaultBox } from './glue.ts';
import { WasmMachine, REG_LO, REG_HI, FLAGS, RIP, FAULT, STOP, PASSES, FLAG_FIELDS } from './machine.ts';

/** The block end: RIP after a jcc/jmp (or the next instruction), and a looping block's back edge. */
function branch(g: Gen, i: Insn, top: number): boolean {
  const f = g.f;
  if (i.exec !== jcc && i.exec !== jmpRel) return false;
  if (i.exec === jcc) g.condition(i.op); else f.i32(1);
  f.set(g.t);
  if (g.loops) {
    // Round again while passes are allowed and no import asked the run loop to look.
    f.get(g.t).get(g.passes).get(0).op(Op.i32LtU).op(Op.i32And).i32(0).mem(Op.i32Load, STOP).op(Op.i32Eqz).op(Op.i32And);
    f.open(Op.if);
    f.get(g.passes).i32(1).op(Op.i32Add).set(g.passes);
    f.i32(0).get(g.passes).mem(Op.i32Store, PASSES);
    f.br(top);
    f.close();
  }
  f.i32(0).i64(i.tLo, i.tHi).i64(i.nextLo, i.nextHi).get(g.t).op(Op.select).mem(Op.i64Store, RIP);
  return true;
}

function generate(b: Block, loops: boolean, prior: Usage | null): { gen: Gen; n: number } {
  const g = new Gen(b, loops, prior);
  const f = g.f, insns = b.insns, n = insns.length;
  const liveAfter = liveness(insns);
  g.exitDepth = f.open(Op.block);
  const top = loops ? f.open(Op.loop) : 0;
  // Going round again, whatever the last pass wrote after its last handler call is not in memory.
  if (loops && prior !== null) { for (const r of prior.regsWritten) g.dirtyRegs.add(r); g.dirtyFlags = prior.flagsWritten; }
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    g.pos = k;
    g.masks[k] = g.written;
    const last = k === n - 1;
    g.flagsLive = (liveAfter[k]! & i.flagsWrite) !== 0 || i.flagsWrite === 0;
    const e = inlineForm(i), inline = e !== null;
    if (last && inline && branch(g, i, top)) continue;
    if (inline && form(g, i, last)) {
      if (last && !setsRip(i)) g.storeRip(i.nextLo, i.nextHi);
      else if (e.writesMemory) {
        // A slow-path write reached a page holding code: leave after this instruction (RIP at the next).
        f.get(g.wexit);
        f.open(Op.if); g.storeRip(i.nextLo, i.nextHi); g.exit(k + 1); f.close();
      }
      continue;
    }
    g.callHandler(last);
  }
  g.masks[n] = g.written;
  if (loops) f.close();
  f.i32(n).set(g.ret);
  f.close();
  return { gen: g, n };
}

/** Whether a block compiles to Wasm: 64-bit code, not at a breakpoint (those go to the JS compiler). */
export function wasmEligible(b: Block): boolean {
  return b.modeKey === 64 && !b.atBreakpoint && b.insns.length > 0;
}

export interface WasmBlockInfo { bytes: number; handlers: number; loops: boolean }

/** Compile a block to a Wasm function and the JS wrapper the run loop calls (same contract as compileBlock's result). */
export function compileWasmBlock(b: Block, m: WasmMachine, cpu: Cpu, info?: WasmBlockInfo, allowLoops = true): (c: Cpu) => number {
  const insns = b.insns, n = insns.length;
  const l = insns[n - 1]!;
  const loops = allowLoops && inlineForm(l) !== null && !b.atBreakpoint && (l.exec === jcc || l.exec === jmpRel) && l.tLo === b.ripLo && l.tHi === b.ripHi;
  const first = generate(b, loops, null).gen.usage();
  const { gen: g } = generate(b, loops, first);
  const u = g.usage();
  // Prologue: every register the block uses (so any exit may store every written one), the flag fields read before written.
  const pro = new Fn([I32]);
  for (const r of u.regsUsed) pro.loadPair(REG_LO + 4 * r, REG_HI + 4 * r).set(g.reg(r));
  FLAG_FIELDS.forEach((_, k) => { if (u.flagsEntry & (1 << k)) pro.i32(0).mem(Op.i32Load, FLAGS + 4 * k).set(g.fl[k]!); });
  // Epilogue: written registers back, the flag fields into the transfer area, passes.
  const epi = new Fn([I32]);
  for (const r of u.regsWritten) epi.storePair(g.reg(r), REG_LO + 4 * r, REG_HI + 4 * r);
  FLAG_FIELDS.forEach((_, k) => { if ((u.flagsWritten | u.flagsEntry) & (1 << k)) epi.i32(0).get(g.fl[k]!).mem(Op.i32Store, FLAGS + 4 * k); });
  epi.get(g.ret);
  const funcs = [{ type: { params: [I32], results: [I32] }, locals: g.f.locals, body: [...pro.body, ...g.f.body, ...epi.body] }];
  if (u.cf) { const h = cfFunction(); funcs.push({ type: { params: FLAG_PARAMS, results: [I32] }, locals: h.locals, body: h.body }); }
  if (u.cond) { const h = condFunction(); funcs.push({ type: { params: [...FLAG_PARAMS, I32], results: [I32] }, locals: h.locals, body: h.body }); }
  const bytes = encodeModule({ imports: IMPORTS, memoryPages: m.pages, funcs });
  if (info !== undefined) { info.bytes = bytes.length; info.loops = loops; info.handlers = u.handlers.length; }
  return wrap(b, m, cpu, new WebAssembly.Module(bytes as BufferSource), u, loops);
}

/**
 * The import that runs handler calls: generated per block with a case per
 * call site, its flag fields copied by name (the ones written before it;
 * the Cpu holds the others) and its handler called directly (monomorphic).
 */
function handlerGlue(b: Block, u: Usage, loops: boolean, c: Cpu, s: Int32Array, sync: () => void, caught: (e: unknown) => void, ready: () => boolean): (pos: number) => number {
  const F = FLAGS / 4;
  const copyIn = (mask: number) => FLAG_FIELDS.map((x, k) => (mask & (1 << k) ? `c.${x} = s[${F + k}];` : '')).join(' ');
  const names: string[] = [], values: unknown[] = [];
  const cases = u.handlers.map((pos) => {
    const i = b.insns[pos]!;
    names.push(`i${pos}`, `h${pos}`); values.push(i, i.exec);
    const more = loops ? u.flagsWritten & ~u.masks[pos]! : 0;
    return `case ${pos}: c.cur = i${pos}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi}; sync(); ${copyIn(u.masks[pos]!)}`
      + (more !== 0 ? ` if (s[${PASSES / 4}] > 0) { ${copyIn(more)} }` : '')
      + ` try { h${pos}(c, i${pos}); } catch (e) { caught(e); status = 2; } break;`;
  }).join('\n');
  const src = [
    'return function call(pos) {',
    'let status = 0; importCalls.call++;',
    `switch (pos) {\n${cases}\n}`,
    FLAG_FIELDS.map((x, k) => `s[${F + k}] = c.${x};`).join(' '),
    `s[${RIP / 4}] = c.ripLo; s[${RIP / 4 + 1}] = c.ripHi;`,
    'if (status === 0 && c.blockExit) status = 1;',
    loops ? `if (c.stopRequested || c.blockExit || !ready()) s[${STOP / 4}] = 1;` : '',
    'return status;',
    '};',
  ].join('\n');
  return (new Function('c', 's', 'sync', 'caught', 'ready', 'importCalls', ...names, src) as (...a: unknown[]) => (pos: number) => number)(c, s, sync, caught, ready, importCalls, ...values);
}

/** Copy the flag fields in `mask` between the transfer area and the Cpu. */
function flagsToCpu(c: Cpu, s: Int32Array, mask: number): void {
  const o = c as unknown as Record<string, number>;
  for (let k = 0; k < 9; k++) if (mask & (1 << k)) o[FLAG_FIELDS[k]!] = s[FLAGS / 4 + k]!;
}

/**
 * The JS side of one Wasm block: imports (slow-path reads and writes,
 * handler calls) and the wrapper the run loop calls, generated so that its
 * common path copies just the flag fields the block reads and writes.
 */
function wrap(b: Block, m: WasmMachine, cpu: Cpu, mod: WebAssembly.Module, u: Usage, loops: boolean): (c: Cpu) => number {
  const s = m.s32, insns = b.insns, n = insns.length;
  const st: FaultBox & { i0: number } = { fault: null, i0: 0 };
  const c = cpu;
  const sync = loops ? () => { c.icount = st.i0 + s[PASSES / 4]! * n; } : () => {};
  const caught = (e: unknown): void => { catchFault(st, e); };
  const ready = () => chainReady(c);
  const imports = {
    mem: m.memory,
    ...memoryImports(c, s, (pos) => insns[pos]!, sync, st),
    call: handlerGlue(b, u, loops, c, s, sync, caught, ready),
  };
  const run = new WebAssembly.Instance(mod, { env: imports }).exports.run as (max: number) => number;
  /** A fault or an early exit: the flag fields written before it, the fault rethrown. */
  const slowExit = (r: number, passes: number): number => {
    const at = r < 0 ? -r - 1 : r;
    flagsToCpu(c, s, u.masks[at]! | (passes > 0 ? u.flagsWritten : 0));
    if (r < 0) {
      s[FAULT / 4] = 0;
      const e = st.fault!; st.fault = null;
      c.cur = insns[at]!;
      throw e;
    }
    return r;
  };
  const inFields = FLAG_FIELDS.filter((_, k) => u.flagsEntry & (1 << k));
  const outFields = FLAG_FIELDS.filter((_, k) => u.masks[n]! & (1 << k));
  const F = FLAGS / 4;
  const src = [
    'return function wasmBlock(c) {',
    ...inFields.map((x) => `s[${F + FLAG_FIELDS.indexOf(x)}] = c.${x};`),
    loops ? `s[${STOP / 4}] = 0; s[${PASSES / 4}] = 0; st.i0 = c.icount;` : '',
    loops ? `const max = ready() ? Math.max(0, Math.min(Math.floor((c.limit - c.icount) / ${n}) - 1, 1e9)) : 0;` : 'const max = 0;',
    'const r = run(max);',
    `c.ripLo = s[${RIP / 4}]; c.ripHi = s[${RIP / 4 + 1}];`,
    loops ? `const passes = s[${PASSES / 4}]; c.icount = st.i0 + passes * ${n};` : 'const passes = 0;',
    `if (r !== ${n}) return slowExit(r, passes);`,
    ...outFields.map((x) => `c.${x} = s[${F + FLAG_FIELDS.indexOf(x)}];`),
    `return ${n};`,
    '};',
  ].join('\n');
  const factory = new Function('s', 'st', 'run', 'ready', 'slowExit', src) as (...a: unknown[]) => (c: Cpu) => number;
  return factory(s, st, run, ready, slowExit);
}

