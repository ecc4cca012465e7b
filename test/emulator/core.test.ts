// Directed checks of the core's contracts that the differential suite does
// not reach: #UD reporting, code invalidation on writes, 16/32-bit decoding,
// determinism of the instruction count.
import { describe, it, expect } from 'vitest';
import { Cpu, FlatMemory, Stop, Vector, installSystem } from '../../emulator/index.ts';
import { assemble } from './assemble.ts';

function machine(code: Uint8Array, at = 0x1000): Cpu {
  const mem = new FlatMemory(1 << 20);
  mem.write(at, code);
  const cpu = new Cpu({ memory: mem });
  cpu.resetFlat64();
  cpu.setRip(BigInt(at));
  cpu.setReg(4, 0x80000n);
  return cpu;
}

describe('core contracts', () => {
  it('raises #UD naming the bytes and disassembly of an instruction it does not implement', () => {
    const cpu = machine(assemble('fsin')); // x87 arithmetic is not part of the core
    expect(cpu.run(10)).toBe(Stop.Fault);
    expect(cpu.lastFault?.vector).toBe(Vector.UD);
    expect(cpu.lastFault?.message).toMatch(/fsin/);
    expect(cpu.lastFault?.message).toMatch(/d9 fe/);
    expect(cpu.getRip()).toBe(0x1000n);
  });

  it('re-decodes code the guest overwrites (self-modifying code, also once blocks are compiled)', () => {
    // Loop 100 times over "add rax, 1"; on iteration 60 patch the immediate to 5.
    const cpu = machine(assemble(`
      mov ecx, 100
    top:
      cmp ecx, 40
      jne skip
      mov byte ptr [rip + patch + 3], 5
    skip:
    patch:
      add rax, 1
      dec ecx
      jnz top
      hlt`));
    expect(cpu.run(100_000)).toBe(Stop.Halt);
    expect(cpu.getReg(0)).toBe(60n + 40n * 5n);
  });

  it('counts the same instructions on every run', () => {
    const src = `
      mov ecx, 1000
    l: imul rax, rcx
      add rax, rcx
      loop l
      hlt`;
    const a = machine(assemble(src)); a.run(1e6);
    const b = machine(assemble(src)); b.run(1e6);
    expect(a.icount).toBe(b.icount);
    expect(a.icount).toBe(1 + 3 * 1000 + 1);
    expect(a.getReg(0)).toBe(b.getReg(0));
  });

  it('stops exactly at the instruction budget', () => {
    const cpu = machine(assemble('l: inc rax\n jmp l'));
    expect(cpu.run(1001)).toBe(Stop.Budget);
    expect(cpu.icount).toBe(1001);
    expect(cpu.getReg(0)).toBe(501n);
  });

  it('stops at execution breakpoints before the instruction runs, and resumes past them', () => {
    const code = assemble(`
      mov ecx, 10
    l: inc rax
    here: add rbx, rax
      loop l
      hlt`);
    const cpu = machine(code);
    // "here" is the add after the 2-byte mov ecx... compute it from the code: mov ecx,imm32 (5) + inc rax (3)
    const here = 0x1000 + 5 + 3;
    let hits = 0;
    cpu.addBreakpoint(here, 0, () => ++hits % 3 === 0);
    expect(cpu.run(1000)).toBe(Stop.Breakpoint);
    expect(cpu.getRip()).toBe(BigInt(here));
    expect(hits).toBe(3);
    expect(cpu.getReg(0)).toBe(3n); // the third inc ran, the third add did not
    expect(cpu.getReg(3)).toBe(1n + 2n);
    expect(cpu.run(1000)).toBe(Stop.Breakpoint);
    expect(hits).toBe(6);
    cpu.removeBreakpoint(here, 0);
    expect(cpu.run(1000)).toBe(Stop.Halt);
    expect(cpu.getReg(3)).toBe(55n);
  });

  it('lets a decode hook stop before newly reached code runs', () => {
    const cpu = machine(assemble(`
      mov eax, 1
      jmp far_away
      .skip 8192
    far_away:
      mov eax, 2
      hlt`));
    const seen: number[] = [];
    cpu.onBlockDecoded = (_c, lo, _hi, phys) => { seen.push(phys); return lo >>> 0 > 0x2000; };
    expect(cpu.run(100)).toBe(Stop.Requested);
    expect(cpu.getReg(0)).toBe(1n);
    expect(Number(cpu.getRip())).toBeGreaterThan(0x2000);
    cpu.onBlockDecoded = null;
    expect(cpu.run(100)).toBe(Stop.Halt);
    expect(cpu.getReg(0)).toBe(2n);
    expect(seen[0]).toBe(0x1000);
  });

  // Found by test/diff comparing RFLAGS in full: the host's signal frame has RF
  // set after every fault, the core pushed RFLAGS without it.
  it('pushes RF = 1 in the RFLAGS image of a fault, not of a trap', () => {
    const pushed = (code: string): number => {
      const mem = new FlatMemory(1 << 20);
      mem.write(0x1000, assemble(code));
      const q = (a: number, v: bigint) => mem.write(a, new Uint8Array(new BigUint64Array([v]).buffer));
      q(0x10, 0x00209a0000000000n); // GDT[2] (selector 0x10): 64-bit code
      for (const v of [3, 6]) {     // IDT at 0x2000: #BP (trap) and #UD (fault) to a hlt at 0x3000
        q(0x2000 + 16 * v, 0x3000n | (0x10n << 16n) | (0x8e00n << 32n));
        q(0x2008 + 16 * v, 0n);
      }
      mem.write(0x3000, Uint8Array.of(0xf4));
      const cpu = new Cpu({ memory: mem });
      cpu.resetFlat64();
      cpu.setRip(0x1000n);
      cpu.setReg(4, 0x80000n);
      cpu.idtrBaseLo = 0x2000; cpu.idtrLimit = 0xfff;
      installSystem(cpu);
      expect(cpu.run(10)).toBe(Stop.Halt);
      return new DataView(mem.ram.buffer).getUint32(Number(cpu.getReg(4)) + 16, true);
    };
    expect(pushed('ud2') & 0x10000).toBe(0x10000);
    // An iret back with that image sets RF for one instruction only.
    const mem = new FlatMemory(1 << 20);
    mem.write(0x1000, assemble('push 0\npush 0x80000\npush 0x10202\npush 0x10\nlea rax, [rip + after]\npush rax\niretq\nafter: nop\nhlt'));
    mem.write(0x10, new Uint8Array(new BigUint64Array([0x00209a0000000000n]).buffer));
    const cpu = new Cpu({ memory: mem });
    cpu.resetFlat64(); cpu.setRip(0x1000n); cpu.setReg(4, 0x80000n);
    expect(cpu.run(100)).toBe(Stop.Halt);
    expect(cpu.getRflags() & 0x10000).toBe(0);
    expect(pushed('int3') & 0x10000).toBe(0);
  });
});
