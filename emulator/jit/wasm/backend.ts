// The Wasm backend's compile step: the run loop (run.ts) calls compileHot
// when a block reaches Cpu.jitThreshold on a Cpu built with `wasm`. A
// 64-bit block becomes a Wasm region (itself and the blocks it went on to,
// region.ts) when they are all inline, else one Wasm function; anything
// else goes to the JS compiler as on a Cpu without the backend.
import type { Cpu } from '../../cpu.ts';
import type { Block } from '../../insn.ts';
import { compileBlock, inlineCheckMask, type CompiledBlock } from '../compile.ts';
import { compileWasmBlock, wasmEligible, type WasmBlockInfo } from './compile.ts';
import { compileWasmRegion, regionOf, regionCheckMask, type WasmRegionInfo } from './region.ts';
import type { WasmMachine } from './machine.ts';

/** Compile a hot block for the run loop; sets b.checkMask and b.span as compileBlock does. */
export function compileHot(b: Block, c: Cpu, m: WasmMachine): CompiledBlock {
  if (!wasmEligible(b)) return compileBlock(b, b.modeKey, c.blocks);
  const opts = m.options, stats = m.stats;
  const t0 = opts.timing ? performance.now() : 0;
  let region: Block[] = [b];
  let f: CompiledBlock | null = null;
  const regions = opts.regions ?? true;
  // A block already compiled inside a region (that region's head still valid: no member written since) runs
  // the region from its own entry instead of compiling a region of its own that would copy the same code.
  const owner = regions ? m.regionMembers.get(b) : undefined;
  if (owner !== undefined && owner.blocks[0]!.valid) {
    region = owner.blocks;
    f = owner.enter(region.indexOf(b));
    for (const s of region) if (s !== b) c.blocks.dependOn(b, s);
    stats.regionEntries++;
  } else if (regions && (region = regionOf(b, opts.regionBlocks)).length > 1) {
    const info: WasmRegionInfo = { bytes: 0, blocks: 0 };
    const r = compileWasmRegion(region, m, c, info);
    if (r !== null) {
      f = r.enter(0);
      stats.wasmBytes += info.bytes; stats.regions++; stats.regionBlocks += info.blocks;
      // The region runs its members' code: a write into any of them must drop it too.
      for (const s of region.slice(1)) { c.blocks.dependOn(b, s); if (!m.regionMembers.has(s)) m.regionMembers.set(s, r); }
    } else region = [b];
  }
  if (f === null) {
    const info: WasmBlockInfo = { bytes: 0, handlers: 0, loops: false };
    f = compileWasmBlock(b, m, c, info, opts.loops ?? true);
    stats.wasmBytes += info.bytes; stats.handlers += info.handlers; if (info.loops) stats.loops++;
  }
  if (opts.timing) stats.compileSeconds += (performance.now() - t0) / 1000;
  const calls = opts.calls;
  if (calls !== undefined) {
    const inner = f;
    calls.set(b, 0);
    f = (x: Cpu) => { calls.set(b, calls.get(b)! + 1); return inner(x); };
  }
  // A region checks its budget at each edge: it needs room for its head block only.
  b.checkMask = region.length > 1 ? regionCheckMask(region) : inlineCheckMask(b, 64);
  b.span = b.insns.length;
  stats.compiled++;
  return f;
}
