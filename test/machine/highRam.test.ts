// RAM from 4 GiB up (GuestRam's high part, above a Xen guest's MMIO hole)
// takes the core's slow path: code run from there must still be re-decoded
// when it is overwritten, as low RAM's is.
import { describe, it, expect } from 'vitest';
import { Cpu, Stop } from '../../emulator/index.ts';
import { GuestRam } from '../../src/machine/ram.ts';
import { assemble } from '../emulator/assemble.ts';

describe('RAM above 4 GiB', () => {
  it('re-decodes code that is overwritten there, interpreted and compiled', () => {
    for (const threshold of [0, 1]) {
      // 256 MiB below the hole, 1 MiB at 4 GiB.
      const ram = new GuestRam(0x10000000 + 0x100000, 0x10000000);
      const at = 0x100001000;
      // Pass 1 runs "mov eax, 1", patches its immediate to 7 and jumps back; pass 2 must see 7.
      ram.load(at, assemble(`
        start: mov eax, 1
        inc ecx
        cmp ecx, 2
        je done
        mov byte ptr [rbx + 1], 7
        jmp start
        done: hlt`));
      const cpu = new Cpu({ memory: ram });
      cpu.resetFlat64();
      cpu.jitThreshold = threshold;
      cpu.setRip(BigInt(at));
      cpu.setReg(3, BigInt(at));
      expect(cpu.run(100)).toBe(Stop.Halt);
      expect(cpu.getReg(1)).toBe(2n);
      expect(cpu.getReg(0)).toBe(7n);
    }
  });
});
