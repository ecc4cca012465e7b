// Putting a backend in the run loop without touching it (run.ts compiles a
// block with the JS compiler when its hit count reaches Cpu.jitThreshold):
// the block cache's lookup is wrapped so that a block one run short of the
// threshold gets its compiled form from here first. Used by bench/wasm.ts
// and the tests; the product path is unchanged.
import type { Cpu } from '../../cpu.ts';
import type { Block } from '../../insn.ts';
import { compileBlock, inlineCheckMask } from '../compile.ts';
import { compileWasmBlock, wasmEligible, type WasmBlockInfo } from './compile.ts';
import { compileWasmRegion, regionOf, regionCheckMask, type WasmRegionInfo } from './region.ts';
import type { WasmMachine } from './machine.ts';

export type Backend = 'js' | 'js-block' | 'wasm' | 'wasm-region';

export interface BackendStats { compiled: number; wasmBytes: number; loops: number; handlers: number; compileSeconds: number; regions: number; regionBlocks: number }

/**
 * Route block compilation: 'js' leaves the run loop's compiler alone (with
 * its regions); 'js-block' compiles each block alone (no successors inside
 * it, loops still inside); 'wasm' compiles 64-bit blocks to Wasm over `m`
 * (`loops` false: a block that branches to itself returns after each pass);
 * 'wasm-region' puts a hot block and its successors in one function
 * (region.ts) where they are all inline, else compiles as 'wasm'.
 * `calls`: count each compiled block's calls, for profiles.
 */
export function installBackend(cpu: Cpu, backend: Backend, m: WasmMachine | null, opts: { loops?: boolean; calls?: Map<Block, number> } = {}): BackendStats {
  const stats: BackendStats = { compiled: 0, wasmBytes: 0, loops: 0, handlers: 0, compileSeconds: 0, regions: 0, regionBlocks: 0 };
  if (backend === 'js') return stats;
  if ((backend === 'wasm' || backend === 'wasm-region') && m === null) throw new Error('installBackend: the wasm backend needs a WasmMachine attached to the Cpu');
  const cache = cpu.blocks as unknown as { lookup(ignoreHook?: boolean): Block | null };
  const lookup = cache.lookup.bind(cache);
  cache.lookup = (ignoreHook = false): Block | null => {
    const b = lookup(ignoreHook);
    if (b !== null && b.compiled === null && cpu.jitThreshold > 0 && b.hits >= cpu.jitThreshold - 1 && wasmEligible(b)) {
      const t0 = performance.now();
      let region: Block[] = [b];
      let f: ((c: Cpu) => number) | null = null;
      if (backend === 'wasm-region' && (region = regionOf(b)).length > 1) {
        const info: WasmRegionInfo = { bytes: 0, blocks: 0 };
        f = compileWasmRegion(region, m!, cpu, info);
        if (f !== null) {
          stats.wasmBytes += info.bytes; stats.regions++; stats.regionBlocks += info.blocks;
          for (const s of region.slice(1)) cpu.blocks.dependOn(b, s);
        } else region = [b];
      }
      if (f !== null) b.compiled = f;
      else if (backend === 'wasm' || backend === 'wasm-region') {
        const info: WasmBlockInfo = { bytes: 0, handlers: 0, loops: false };
        b.compiled = compileWasmBlock(b, m!, cpu, info, opts.loops ?? true);
        stats.wasmBytes += info.bytes; stats.handlers += info.handlers; if (info.loops) stats.loops++;
      } else b.compiled = compileBlock(b, 64, null);
      stats.compileSeconds += (performance.now() - t0) / 1000;
      const calls = opts.calls;
      if (calls !== undefined) {
        // Profiling: count calls (slows every call down; for finding the hot blocks only).
        const inner = b.compiled;
        calls.set(b, 0);
        b.compiled = (c: Cpu) => { calls.set(b, calls.get(b)! + 1); return inner(c); };
      }
      b.checkMask = region.length > 1 ? regionCheckMask(region) : inlineCheckMask(b, 64);
      b.span = b.insns.length;
      stats.compiled++;
      cpu.blocksCompiled++;
    }
    return b;
  };
  return stats;
}
