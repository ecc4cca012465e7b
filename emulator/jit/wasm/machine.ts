// One WebAssembly.Memory shared by the Cpu and the Wasm block backend:
// guest RAM, the general-purpose registers and the software TLB all live in
// it, so compiled Wasm reads and writes them where the JS core does.
//
//   0      lo[16], hi[16]           the Cpu's register arrays (views)
//   128    fOp fSize fA fAh fB fBh fR fRh fAux   lazy-flag transfer area (the Cpu keeps its own fields)
//   176    rip lo, hi               RIP a block leaves with
//   184    fault                    set by a slow-path import that caught a fault
//   188    stop                     set by an import after which a looping block must not go round again
//   192    passes                   passes a looping block completed before its last (a region: instructions before its current block)
//   196    outHi                    high half of a 64-bit slow-path read
//   200    block                    a region's current block (region.ts)
//   4096   read TLB tags lo, hi, phys; write TLB tags lo, hi, phys (the Cpu's TLB arrays, views)
//   65536  guest RAM (the machine's RAM class takes `ram` as its own)
//
// The Cpu allocates its arrays here when it is built with `wasm: machine`
// (cpuArrays), and its run loop then compiles hot blocks with backend.ts.
import { FlatMemory } from '../../memory.ts';
import type { Block } from '../../insn.ts';
import type { Cpu } from '../../cpu.ts';

export const REG_LO = 0, REG_HI = 64, FLAGS = 128, RIP = 176, FAULT = 184, STOP = 188, PASSES = 192, OUT_HI = 196, CUR_BLOCK = 200;
export const TLB_ENTRIES = 1024;
export const R_TAG_LO = 4096, R_TAG_HI = R_TAG_LO + 4 * TLB_ENTRIES, R_PHYS = R_TAG_HI + 4 * TLB_ENTRIES;
export const W_TAG_LO = R_PHYS + 4 * TLB_ENTRIES, W_TAG_HI = W_TAG_LO + 4 * TLB_ENTRIES, W_PHYS = W_TAG_HI + 4 * TLB_ENTRIES;
export const RAM_BASE = 65536;

/** The lazy-flag fields in the order of the transfer area. */
export const FLAG_FIELDS = ['fOp', 'fSize', 'fA', 'fAh', 'fB', 'fBh', 'fR', 'fRh', 'fAux'] as const;

/** Largest RAM one WebAssembly.Memory holds after the state area (4 GiB minus a page, less RAM_BASE). */
export const MAX_WASM_RAM = 4 * 1024 * 1024 * 1024 - 65536 - RAM_BASE;

/** The Cpu's register and TLB arrays (cpu.ts allocates them here: in a WasmMachine's memory, or plain). */
export interface CpuArrays { lo: Int32Array; hi: Int32Array; rTagLo: Int32Array; rTagHi: Int32Array; rPhys: Int32Array; wTagLo: Int32Array; wTagHi: Int32Array; wPhys: Int32Array }

/** How the backend compiles (bench/wasm.ts compares the choices; the defaults are the product's). */
export interface WasmBackendOptions {
  /** Put a hot block and the blocks it goes on to in one function (region.ts) when all are inline (default true). */
  regions?: boolean;
  /** Most blocks in one region (default region.ts REGION_BLOCKS). */
  regionBlocks?: number;
  /** A block that branches to itself loops inside its function (default true). */
  loops?: boolean;
  /** Time compilation into stats.compileSeconds (host time: for benchmarks; the emulation never reads it). */
  timing?: boolean;
  /** Count each compiled block's calls (slows every call: for profiles only). */
  calls?: Map<unknown, number>;
}

/** What the backend compiled. */
export interface BackendStats {
  compiled: number; wasmBytes: number; loops: number; handlers: number; compileSeconds: number; regions: number; regionBlocks: number;
  /** Hot blocks that run an existing region from their own entry (no code of their own). */
  regionEntries: number;
}

/** A compiled region as backend.ts keeps it for its members (region.ts CompiledRegion). */
export interface RegionHandle { blocks: Block[]; enter(j: number): (c: Cpu) => number }

export class WasmMachine {
  readonly memory: WebAssembly.Memory;
  /** Guest RAM (ramSize bytes at RAM_BASE). */
  readonly ram: Uint8Array;
  /** Int32 view of the state area (registers, flags, RIP, status words). */
  readonly s32: Int32Array;
  /** How it compiles from now on (a benchmark may change them before the first compile). */
  readonly options: WasmBackendOptions;
  readonly stats: BackendStats = { compiled: 0, wasmBytes: 0, loops: 0, handlers: 0, compileSeconds: 0, regions: 0, regionBlocks: 0, regionEntries: 0 };
  /** The region each block was first compiled into (not as its head): where it runs from when it gets hot itself. */
  readonly regionMembers = new WeakMap<Block, RegionHandle>();
  private flatMemory: FlatMemory | null = null;
  private cpuArrays: CpuArrays | null = null;

  /** Whether `ramSize` bytes of RAM fit in one WebAssembly.Memory after the state area. */
  static fits(ramSize: number): boolean { return ramSize <= MAX_WASM_RAM; }

  constructor(ramSize: number, options: WasmBackendOptions = {}) {
    if (!WasmMachine.fits(ramSize)) throw new RangeError(`WasmMachine: ${ramSize} bytes of RAM do not fit in one WebAssembly.Memory (at most ${MAX_WASM_RAM})`);
    const pages = Math.ceil((RAM_BASE + ramSize) / 65536);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.ram = new Uint8Array(this.memory.buffer, RAM_BASE, ramSize);
    this.s32 = new Int32Array(this.memory.buffer, 0, RAM_BASE / 4);
    this.options = options;
  }

  /** A FlatMemory over this RAM (for tests and embedding; a machine's own RAM class may take `ram` instead). */
  get flat(): FlatMemory { return this.flatMemory ??= new FlatMemory(this.ram.length, this.ram); }

  get pages(): number { return this.memory.buffer.byteLength / 65536; }

  /** The register and TLB arrays of the one Cpu that runs on this machine: views into the state area. */
  claimCpuArrays(): CpuArrays {
    if (this.cpuArrays !== null) throw new Error('WasmMachine: a Cpu already runs on this machine');
    const buf = this.memory.buffer;
    const v = (at: number, n: number) => new Int32Array(buf, at, n);
    return this.cpuArrays = {
      lo: v(REG_LO, 16), hi: v(REG_HI, 16),
      rTagLo: v(R_TAG_LO, TLB_ENTRIES), rTagHi: v(R_TAG_HI, TLB_ENTRIES), rPhys: v(R_PHYS, TLB_ENTRIES),
      wTagLo: v(W_TAG_LO, TLB_ENTRIES), wTagHi: v(W_TAG_HI, TLB_ENTRIES), wPhys: v(W_PHYS, TLB_ENTRIES),
    };
  }
}

/** A Cpu's register and TLB arrays: in `m`'s memory, or plain arrays (m null). TLB read/write tags start invalid (1). */
export function cpuArrays(m: WasmMachine | null, tlbEntries: number): CpuArrays {
  if (m !== null && tlbEntries !== TLB_ENTRIES) throw new Error(`WasmMachine: the Cpu's TLB has ${tlbEntries} entries, the layout ${TLB_ENTRIES}`);
  const a = m !== null ? m.claimCpuArrays() : {
    lo: new Int32Array(16), hi: new Int32Array(16),
    rTagLo: new Int32Array(tlbEntries), rTagHi: new Int32Array(tlbEntries), rPhys: new Int32Array(tlbEntries),
    wTagLo: new Int32Array(tlbEntries), wTagHi: new Int32Array(tlbEntries), wPhys: new Int32Array(tlbEntries),
  };
  a.rTagLo.fill(1); a.wTagLo.fill(1);
  return a;
}
