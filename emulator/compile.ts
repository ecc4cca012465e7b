// Block compilation, first tier: a hot block becomes one generated JS
// function that calls each instruction's handler directly. Every call site
// is then monomorphic (the interpreter's `i.exec(c, i)` is megamorphic),
// RIP updates become constant stores, and the simplest register moves are
// inlined as code.
import type { Cpu } from './cpu.ts';
import type { Block, Insn, Handler } from './insn.ts';
import { movRR32, movRR64, movRI32, movRI64, nop } from './ops/move.ts';

/** Executions of a block before it is compiled. */
export const COMPILE_THRESHOLD = Number(process.env.BOOTPATH_JIT_THRESHOLD ?? 40);

export type CompiledBlock = (c: Cpu) => number;

/** Source for one instruction when its handler is simple enough to inline; null otherwise. */
function inline(i: Insn, h: Handler): string | null {
  if (h === movRR64) return `lo[${i.a}] = lo[${i.b}]; hi[${i.a}] = hi[${i.b}];`;
  if (h === movRR32) return `lo[${i.a}] = lo[${i.b}]; hi[${i.a}] = 0;`;
  if (h === movRI32) return `lo[${i.a}] = ${i.immLo}; hi[${i.a}] = 0;`;
  if (h === movRI64) return `lo[${i.a}] = ${i.immLo}; hi[${i.a}] = ${i.immHi};`;
  if (h === nop) return '';
  return null;
}

/** Compile a block; the result returns how many instructions it retired. */
export function compileBlock(b: Block): CompiledBlock {
  const insns = b.insns;
  const n = insns.length;
  const names: string[] = [];
  const values: unknown[] = [];
  const lines: string[] = ['const lo = c.lo, hi = c.hi;'];
  for (let k = 0; k < n; k++) {
    const i = insns[k]!;
    names.push(`i${k}`); values.push(i);
    const code = inline(i, i.exec);
    lines.push(`c.cur = i${k}; c.ripLo = ${i.nextLo}; c.ripHi = ${i.nextHi};`);
    if (code !== null) { lines.push(code); continue; }
    names.push(`h${k}`); values.push(i.exec);
    lines.push(`h${k}(c, i${k});`);
    if (k < n - 1) lines.push(`if (c.blockExit) return ${k + 1};`);
  }
  lines.push(`return ${n};`);
  const factory = new Function(...names, `return function block(c) {\n${lines.join('\n')}\n};`) as (...args: unknown[]) => CompiledBlock;
  return factory(...values);
}
