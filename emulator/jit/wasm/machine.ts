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
//   65536  guest RAM (FlatMemory.ram)
import type { Cpu } from '../../cpu.ts';
import { FlatMemory } from '../../memory.ts';

export const REG_LO = 0, REG_HI = 64, FLAGS = 128, RIP = 176, FAULT = 184, STOP = 188, PASSES = 192, OUT_HI = 196, CUR_BLOCK = 200;
export const TLB_ENTRIES = 1024;
export const R_TAG_LO = 4096, R_TAG_HI = R_TAG_LO + 4 * TLB_ENTRIES, R_PHYS = R_TAG_HI + 4 * TLB_ENTRIES;
export const W_TAG_LO = R_PHYS + 4 * TLB_ENTRIES, W_TAG_HI = W_TAG_LO + 4 * TLB_ENTRIES, W_PHYS = W_TAG_HI + 4 * TLB_ENTRIES;
export const RAM_BASE = 65536;

/** The lazy-flag fields in the order of the transfer area. */
export const FLAG_FIELDS = ['fOp', 'fSize', 'fA', 'fAh', 'fB', 'fBh', 'fR', 'fRh', 'fAux'] as const;

/** The Cpu fields the attach rebinds (private in cpu.ts: typed arrays of the same type and length, so its code is unchanged). */
interface Rebindable { lo: Int32Array; hi: Int32Array; rTagLo: Int32Array; rTagHi: Int32Array; rPhys: Int32Array; wTagLo: Int32Array; wTagHi: Int32Array; wPhys: Int32Array }

export class WasmMachine {
  readonly memory: WebAssembly.Memory;
  /** Guest RAM (ramSize bytes at RAM_BASE). */
  readonly ram: Uint8Array;
  /** Int32 view of the state area (registers, flags, RIP, status words). */
  readonly s32: Int32Array;
  private flatMemory: FlatMemory | null = null;

  constructor(ramSize: number) {
    const pages = Math.ceil((RAM_BASE + ramSize) / 65536);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.ram = new Uint8Array(this.memory.buffer, RAM_BASE, ramSize);
    this.s32 = new Int32Array(this.memory.buffer, 0, RAM_BASE / 4);
  }

  /** A FlatMemory over this RAM (for tests and embedding; a machine's own RAM class may take `ram` instead). */
  get flat(): FlatMemory { return this.flatMemory ??= new FlatMemory(this.ram.length, this.ram); }

  get pages(): number { return this.memory.buffer.byteLength / 65536; }

  /**
   * Move a Cpu built over this RAM onto the shared memory: its register
   * arrays and TLB become views into it (contents kept). Call before running.
   */
  attach(cpu: Cpu): void {
    if (cpu.ram.buffer !== this.memory.buffer || cpu.ram.byteOffset !== RAM_BASE) throw new Error('WasmMachine.attach: the Cpu does not run over this machine\'s RAM');
    const c = cpu as unknown as Rebindable;
    const buf = this.memory.buffer;
    const move = (key: keyof Rebindable, at: number, n: number) => {
      const old = c[key];
      if (old.length !== n) throw new Error(`WasmMachine.attach: Cpu.${key} has ${old.length} entries, the layout ${n}`);
      const v = new Int32Array(buf, at, n);
      v.set(old);
      c[key] = v;
    };
    move('lo', REG_LO, 16); move('hi', REG_HI, 16);
    move('rTagLo', R_TAG_LO, TLB_ENTRIES); move('rTagHi', R_TAG_HI, TLB_ENTRIES); move('rPhys', R_PHYS, TLB_ENTRIES);
    move('wTagLo', W_TAG_LO, TLB_ENTRIES); move('wTagHi', W_TAG_HI, TLB_ENTRIES); move('wPhys', W_PHYS, TLB_ENTRIES);
  }
}
