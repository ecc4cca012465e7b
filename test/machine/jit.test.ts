// Choosing the block compiler: wasm by default, js when asked or when the
// fast-path RAM cannot fit one WebAssembly.Memory; a Cpu on a WasmMachine
// keeps its registers in that memory.
import { describe, it, expect } from 'vitest';
import { Cpu, FlatMemory } from '../../emulator/index.ts';
import { WasmMachine, MAX_WASM_RAM, REG_LO } from '../../emulator/jit/wasm/machine.ts';
import { wasmMachineFor, DEFAULT_JIT } from '../../src/machine/jit.ts';
import { Machine } from '../../src/machine/machine.ts';

describe('the jit choice', () => {
  it('is wasm by default, js when asked, js when the RAM does not fit (no memory allocated to find out)', () => {
    expect(DEFAULT_JIT).toBe('wasm');
    expect(wasmMachineFor(undefined, 1 << 20)).toBeInstanceOf(WasmMachine);
    expect(wasmMachineFor('js', 1 << 20)).toBeNull();
    expect(MAX_WASM_RAM).toBe(4 * 2 ** 30 - 2 * 65536);
    expect(WasmMachine.fits(MAX_WASM_RAM)).toBe(true);
    expect(WasmMachine.fits(MAX_WASM_RAM + 4096)).toBe(false);
    expect(wasmMachineFor('wasm', MAX_WASM_RAM + 4096)).toBeNull();
    expect(() => new WasmMachine(MAX_WASM_RAM + 4096)).toThrow(/do not fit/);
  });

  it('puts the Cpu\'s registers and the machine\'s RAM in the WasmMachine\'s memory', () => {
    const wm = new Machine({ ramSize: 1 << 20 }), jm = new Machine({ ramSize: 1 << 20, jit: 'js' });
    const w = wm.cpu.wasm!;
    expect(wm.ram.ram).toBe(w.ram);
    expect(wm.cpu.lo.buffer).toBe(w.memory.buffer);
    wm.cpu.setReg(3, 0x1122334455667788n);
    expect(w.s32[REG_LO / 4 + 3]).toBe(0x55667788);
    expect(jm.cpu.wasm).toBeNull();
    expect(jm.cpu.lo.buffer).not.toBe(w.memory.buffer);
  });

  it('refuses a Cpu over other RAM, and a second Cpu on the same machine', () => {
    const m = new WasmMachine(1 << 20);
    expect(() => new Cpu({ memory: new FlatMemory(1 << 20), wasm: m })).toThrow(/must be the WasmMachine's ram/);
    new Cpu({ memory: m.flat, wasm: m });
    expect(() => new Cpu({ memory: m.flat, wasm: m })).toThrow(/already runs on this machine/);
  });
});
