// Which block compiler a machine's CPU uses: 'wasm' (emulator/jit/wasm/:
// hot 64-bit code as WebAssembly over one WebAssembly.Memory holding the
// fast-path RAM, the registers and the TLB) or 'js' (jit/compile.ts). Both
// run the same instructions to the same state; wasm is faster (docs/cpu-core.md).
import { WasmMachine } from '../../emulator/jit/wasm/machine.ts';

/** A block compiler: 'wasm' (WebAssembly) or 'js' (JavaScript). */
export type JitBackend = 'wasm' | 'js';
/** The block compilers, as `--jit` takes them. */
export const JIT_BACKENDS: readonly JitBackend[] = ['wasm', 'js'];
/** The default: wasm where the fast-path RAM fits one WebAssembly.Memory (see wasmMachineFor). */
export const DEFAULT_JIT: JitBackend = 'wasm';

/** Whether a string names a backend. */
export function isJitBackend(v: string): v is JitBackend { return (JIT_BACKENDS as readonly string[]).includes(v); }

/**
 * The WasmMachine for a machine with `fastRam` bytes of fast-path RAM, or null for the JS compiler: when `jit` is 'js',
 * or when the RAM does not fit in one WebAssembly.Memory (4 GiB less a page and the 64 KiB state area), where wasm
 * falls back to js.
 */
export function wasmMachineFor(jit: JitBackend | undefined, fastRam: number): WasmMachine | null {
  if ((jit ?? DEFAULT_JIT) !== 'wasm' || !WasmMachine.fits(fastRam)) return null;
  return new WasmMachine(fastRam);
}
