// Run cases in our CPU core (emulator/index.ts) and write the results in
// the same binary layout the native harness produces.

import { ATTR_DB, ATTR_G, ATTR_P, ATTR_S, Cpu, EventKind, FlatMemory, Seg, Stop, pushedFlags } from '../../emulator/index.ts';
import { WasmMachine } from '../../emulator/jit/wasm/machine.ts';
import { inlineForm } from '../../emulator/jit/wasm/gen.ts';
import type { Case } from './generate.ts';
import { CODE_BASE, CODE_ENTRY, CODE_SIZE, DATA_WIN, OUT_SIZE, STACK_WIN, WIN_SIZE, initialWindows, type CaseInput } from './layout.ts';
import { checkScratch, fillScratch } from './scratch.ts';

/** Vector recorded when the core threw something other than a CPU fault. */
export const CORE_CRASH = -2;

/**
 * Runs cases in the core. `compiled` runs each case through the block
 * compiler (emulator/jit) instead of the interpreter: the block holding the
 * instruction is compiled on first use and executed as generated code.
 */
/**
 * Put a case's code (in `code`, padded with int3), data and stack windows,
 * general registers, RIP and RFLAGS into the core, as the native harness
 * starts it.
 */
export function loadCase(cpu: Cpu, mem: FlatMemory, code: Uint8Array, inp: Pick<CaseInput, 'code' | 'gpr' | 'rflags' | 'fsBase' | 'gsBase' | 'mode'> & Parameters<typeof initialWindows>[0]): void {
  code.fill(0xcc);
  code.set(inp.code);
  mem.write(CODE_ENTRY, code);
  // The test writes code behind the core's back: drop decoded blocks of that page.
  const blocks = (cpu as unknown as { blocks?: { invalidateFrame?(f: number): void } }).blocks;
  blocks?.invalidateFrame?.(CODE_ENTRY >>> 12);
  const w = initialWindows(inp);
  mem.write(DATA_WIN, w.data);
  mem.write(STACK_WIN, w.stack);
  cpu.resetFlat64();
  // Compatibility mode: a 32-bit code segment (D = 1, L = 0) in long mode, flat like the host's 0x23.
  if (inp.mode === 32) cpu.setSegmentRaw(Seg.CS, 0x08, 0, 0, -1, 0xb | ATTR_S | ATTR_P | ATTR_DB | ATTR_G);
  for (let i = 0; i < 16; i++) cpu.setReg(i, inp.gpr[i]!);
  cpu.setRip(BigInt(CODE_ENTRY));
  cpu.setRflags(inp.rflags);
  // FS and GS bases, as wrmsr to IA32_FS_BASE / IA32_GS_BASE sets them (the harness uses arch_prctl).
  for (const [seg, base] of [[4, inp.fsBase ?? 0n], [5, inp.gsBase ?? 0n]] as const) {
    const b = BigInt.asUintN(64, base);
    cpu.segBaseLo[seg] = Number(b & 0xffffffffn) | 0;
    cpu.segBaseHi[seg] = Number(b >> 32n) | 0;
  }
}

export class CoreRunner {
  private readonly mem: FlatMemory;
  private readonly cpu: Cpu;
  private readonly code = new Uint8Array(16);
  /** Non-fault exceptions thrown by the core, by case id. */
  readonly crashes = new Map<string, string>();

  /** `compiled`: through a block compiler, the Wasm backend (the product's default) when `wasm`, else the JS one. */
  constructor(readonly compiled = false, wasm = false) {
    const machine = wasm ? new WasmMachine(64 << 20) : null;
    this.mem = machine !== null ? machine.flat : new FlatMemory(64 << 20);
    this.cpu = new Cpu({ memory: this.mem, ...(machine !== null ? { wasm: machine } : {}) });
    this.mem.write(CODE_BASE, new Uint8Array(CODE_SIZE).fill(0xcc));
    fillScratch(this.mem.ram);
  }

  lastVector = -1;

  /**
   * Whether the Wasm backend emits the case's instruction inline (64-bit code,
   * a form of jit/wasm/forms.ts): elsewhere it calls the same handler as the
   * JS compiler's code does, so only these cases tell the backends apart.
   */
  wasmInline(c: Case): boolean {
    const { cpu, mem } = this;
    loadCase(cpu, mem, this.code, c.input);
    try {
      const b = cpu.blocks.lookup(true);
      return b !== null && b.modeKey === 64 && b.insns.length > 0 && inlineForm(b.insns[0]!) !== null;
    } catch {
      return false; // a fetch fault: nothing compiles
    }
  }

  /** Run one case; write its result at `out[k * OUT_SIZE]`. */
  run(c: Case, out: Buffer, k: number): void {
    const { cpu, mem } = this;
    const inp = c.input;
    loadCase(cpu, mem, this.code, inp);
    for (let i = 0; i < 16; i++) cpu.setXmm(i, inp.xmm.subarray(16 * i, 16 * i + 16));
    let v: number;
    try {
      if (this.compiled) {
        // Compile on first execution; run the instruction and what follows it
        // (int3 padding, which stops the run). It retired iff icount moved.
        cpu.jitThreshold = 1;
        const before = cpu.icount;
        if (c.rep) {
          // Each iteration is a unit of time (docs/time-model.md): give the rep all it needs.
          // It faulted iff the run stopped on a fault with RIP still on it.
          const stop = cpu.run(1_000_000);
          v = stop === Stop.Fault && cpu.getRip() === BigInt(CODE_ENTRY) ? cpu.lastFault?.vector ?? -1 : -1;
        } else {
          cpu.run(2);
          v = cpu.icount > before ? -1 : cpu.lastFault?.vector ?? -1;
        }
      } else {
        v = cpu.runOne();
        // A rep string op may stop between iterations with RIP unchanged.
        for (let n = 0; c.rep && v === -1 && cpu.getRip() === BigInt(CODE_ENTRY) && n < 100_000; n++) v = cpu.runOne();
      }
    } catch (e) {
      v = CORE_CRASH;
      this.crashes.set(c.id, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
    this.lastVector = v;
    writeResult(cpu, mem, v, out, k);
  }
}

/**
 * Write the core's state after a case as a result record at out[k * OUT_SIZE]
 * (the harness's layout), then check and restore the scratch area.
 */
export function writeResult(cpu: Cpu, mem: FlatMemory, v: number, out: Buffer, k: number): void {
  const o = k * OUT_SIZE;
  out.writeInt32LE(v, o);
  out.writeInt32LE(0, o + 4);
  for (let i = 0; i < 16; i++) out.writeBigUInt64LE(BigInt.asUintN(64, cpu.getReg(i)), o + 8 + 8 * i);
  out.writeBigUInt64LE(BigInt.asUintN(64, cpu.getRip()), o + 136);
  // The host reads RFLAGS after a fault from the signal frame, i.e. the image the fault pushed (RF set).
  const flags = v >= 0 ? pushedFlags(cpu, v, EventKind.Exception) : cpu.getRflags();
  out.writeBigUInt64LE(BigInt(flags >>> 0), o + 144);
  for (let i = 0; i < 16; i++) out.set(cpu.getXmm(i), o + 152 + 16 * i);
  out.set(mem.ram.subarray(DATA_WIN, DATA_WIN + WIN_SIZE), o + 408);
  out.set(mem.ram.subarray(STACK_WIN, STACK_WIN + WIN_SIZE), o + 664);
  checkScratch(mem.ram, out, o);
}
