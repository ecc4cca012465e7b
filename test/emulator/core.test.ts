// Directed checks of the core's contracts that the differential suite does
// not reach: #UD reporting, cmpxchg8b/16b on a read-only page, code invalidation on writes, 16/32-bit decoding,
// determinism of the instruction count.
import { describe, it, expect } from 'vitest';
import { ATTR_DB, ATTR_G, ATTR_P, ATTR_S, CF, CR0_PG, CR0_WP, Cpu, FlatMemory, OF, PF, SF, Seg, Stop, Vector, ZF, installSystem } from '../../emulator/index.ts';
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
  it('serves RAM above 2 GiB from the TLB like RAM below it (a guest placed high runs at the same speed)', () => {
    // 3 GiB of guest RAM (allocated lazily by the host); a load and a store at 0xa0000000, twice.
    const mem = new FlatMemory(3 * 2 ** 30);
    const high = 0xa0000000;
    mem.write(high, Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88));
    mem.write(0x1000, assemble('mov rax, [rbx]\nmov [rbx+8], rax\nmov rcx, [rbx]\nhlt'));
    const cpu = new Cpu({ memory: mem });
    cpu.resetFlat64();
    cpu.setRip(0x1000n);
    cpu.setReg(3, BigInt(high));
    expect(cpu.run(10)).toBe(Stop.Halt);
    expect(cpu.getReg(0)).toBe(0x8877665544332211n);
    expect(cpu.getReg(1)).toBe(0x8877665544332211n);
    expect([...mem.read(high + 8, 8)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    // The translations were cached: the page's RAM offset, not -1 (the slow path every time).
    expect(cpu.tlbReadPage(high, 0)).toBe(high);
    expect(cpu.tlbWritePage(high, 0)).toBe(high);
  });

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

  it('runs arpl (63 /r) in compatibility mode, where 64-bit mode decodes movsxd', () => {
    // Found by the 32-bit differential twins against QEMU: the core raised #UD (SDM Vol. 2A ARPL: valid in compat mode).
    const run = (code: number[], regs: [number, bigint][], flags: number, compat: boolean, compiled: boolean) => {
      const mem = new FlatMemory(1 << 20);
      mem.write(0x1000, Uint8Array.from([...code, 0xcc]));
      mem.write(0x5000, Uint8Array.of(0x30, 0x12));
      const cpu = new Cpu({ memory: mem });
      cpu.resetFlat64();
      if (compat) cpu.setSegmentRaw(Seg.CS, 0x08, 0, 0, -1, 0xb | ATTR_S | ATTR_P | ATTR_DB | ATTR_G);
      cpu.setRip(0x1000n);
      cpu.setReg(4, 0x80000n);
      cpu.setRflags(flags);
      for (const [r, v] of regs) cpu.setReg(r, v);
      if (compiled) { cpu.jitThreshold = 1; cpu.run(2); } else expect(cpu.runOne()).toBe(-1);
      expect(cpu.getRip()).toBe(BigInt(0x1000 + code.length));
      return { cpu, mem: mem.ram[0x5000]! | (mem.ram[0x5001]! << 8) };
    };
    const lo = (cpu: Cpu, r: number) => cpu.getReg(r) & 0xffffffffn;
    for (const compiled of [false, true]) {
      // arpl bx, si: RPL 1 raised to 3, ZF set; only bits 1:0 change.
      let { cpu } = run([0x63, 0xf3], [[3, 0x12345671n], [6, 0xfff3n]], 0x2, true, compiled);
      expect(lo(cpu, 3)).toBe(0x12345673n);
      expect(cpu.getRflags() & ZF).toBe(ZF);
      // With 66h (arpl is 16-bit either way): RPL 3 ≥ 1, nothing changes, ZF cleared.
      ({ cpu } = run([0x66, 0x63, 0xf3], [[3, 0x12345673n], [6, 0x1n]], 0x2 | ZF, true, compiled));
      expect(lo(cpu, 3)).toBe(0x12345673n);
      expect(cpu.getRflags() & ZF).toBe(0);
      // arpl [0x5000], dx: the word 0x1230 becomes 0x1232.
      const m = run([0x63, 0x15, 0x00, 0x50, 0x00, 0x00], [[2, 0x2n]], 0x2, true, compiled);
      expect(m.mem).toBe(0x1232);
      expect(m.cpu.getRflags() & ZF).toBe(ZF);
      // 64-bit mode: 63 /r is movsxd (movsxd esi, ebx with no REX.W).
      ({ cpu } = run([0x63, 0xf3], [[3, 0x80000001n]], 0x2, false, compiled));
      expect(lo(cpu, 6)).toBe(0x80000001n);
    }
  });

  it('runs cmpxchg8b and cmpxchg16b (0F C7 /1): equal stores ECX:EBX, unequal loads EDX:EAX, only ZF changes', () => {
    // CPUID advertises CX8 and CX16 (platform.ts), but the core raised #UD for both until they were implemented.
    const M = 0x5000, RO = 0x205000; // RO: the same bytes through a read-only mapping
    const q = (mem: FlatMemory, a: number, v: bigint) => mem.write(a, new Uint8Array(new BigUint64Array([v]).buffer));
    const run = (code: number[], at: number, mem0: bigint[], regs: [number, bigint][], flags: number, compiled: boolean) => {
      const mem = new FlatMemory(1 << 20);
      mem.write(0x1000, Uint8Array.from([...code, 0xcc]));
      mem0.forEach((v, k) => q(mem, M + 8 * k, v));
      const cpu = new Cpu({ memory: mem });
      cpu.resetFlat64();
      // 2 MiB pages: 0-2 MiB writable, 2-4 MiB the same frames read-only (CR0.WP: CPL 0 honours it).
      q(mem, 0x70000, 0x71003n); q(mem, 0x71000, 0x72003n); q(mem, 0x72000, 0x83n); q(mem, 0x72008, 0x81n);
      cpu.cr3Lo = 0x70000; cpu.cr0 |= CR0_PG | CR0_WP; cpu.updateMode();
      cpu.setRip(0x1000n);
      cpu.setReg(4, 0x80000n);
      cpu.setReg(6, BigInt(at));
      cpu.setRflags(flags);
      for (const [r, v] of regs) cpu.setReg(r, v);
      if (compiled) { cpu.jitThreshold = 1; cpu.run(2); expect(cpu.blocksCompiled).toBe(1); } else cpu.runOne();
      const m = [0, 1].map((k) => new DataView(mem.ram.buffer).getBigUint64(M + 8 * k, true));
      return { cpu, m };
    };
    const OTHERS = CF | PF | SF | OF;
    const CX8 = [0x0f, 0xc7, 0x0e], CX16 = [0x48, 0x0f, 0xc7, 0x0e]; // cmpxchg8b/16b [rsi]
    for (const compiled of [false, true]) {
      for (const lock of [[], [0xf0]]) {
        // cmpxchg8b equal: memory = ECX:EBX, RAX/RDX untouched (bits 63:32 too), ZF set, other flags kept.
        let r = run([...lock, ...CX8], M, [0x1111111122222222n, 0x99n],
          [[0, 0xaaaaaaaa22222222n], [2, 0xdddddddd11111111n], [3, 0xffffffff87654321n], [1, 0xeeeeeeee12345678n]], 0x2 | OTHERS, compiled);
        expect(r.cpu.getRip()).toBe(BigInt(0x1000 + lock.length + CX8.length));
        expect(r.m).toEqual([0x1234567887654321n, 0x99n]);
        expect(r.cpu.getReg(0)).toBe(0xaaaaaaaa22222222n);
        expect(r.cpu.getReg(2)).toBe(0xdddddddd11111111n);
        expect(r.cpu.getRflags() & (ZF | OTHERS)).toBe(ZF | OTHERS);
        // cmpxchg8b unequal (high halves differ): EDX:EAX = memory, zero-extended into RAX/RDX; memory kept; ZF clear.
        r = run([...lock, ...CX8], M, [0x1111111122222222n, 0x99n],
          [[0, 0xaaaaaaaa22222222n], [2, 0xdddddddd11111112n], [3, 1n], [1, 2n]], 0x2 | ZF, compiled);
        expect(r.m).toEqual([0x1111111122222222n, 0x99n]);
        expect(r.cpu.getReg(0)).toBe(0x22222222n);
        expect(r.cpu.getReg(2)).toBe(0x11111111n);
        expect(r.cpu.getRflags() & (ZF | OTHERS)).toBe(0);
        // cmpxchg16b equal: memory = RCX:RBX.
        r = run([...lock, ...CX16], M, [0x0123456789abcdefn, 0xfedcba9876543210n],
          [[0, 0x0123456789abcdefn], [2, 0xfedcba9876543210n], [3, 0x1111222233334444n], [1, 0x5555666677778888n]], 0x2 | CF, compiled);
        expect(r.m).toEqual([0x1111222233334444n, 0x5555666677778888n]);
        expect(r.cpu.getReg(0)).toBe(0x0123456789abcdefn);
        expect(r.cpu.getRflags() & (ZF | OTHERS)).toBe(ZF | CF);
        // cmpxchg16b unequal (low quadwords differ in bit 32 only): RDX:RAX = memory.
        r = run([...lock, ...CX16], M, [0x0123456789abcdefn, 0xfedcba9876543210n],
          [[0, 0x0123456689abcdefn], [2, 0xfedcba9876543210n], [3, 3n], [1, 4n]], 0x2 | ZF | SF, compiled);
        expect(r.m).toEqual([0x0123456789abcdefn, 0xfedcba9876543210n]);
        expect(r.cpu.getReg(0)).toBe(0x0123456789abcdefn);
        expect(r.cpu.getReg(2)).toBe(0xfedcba9876543210n);
        expect(r.cpu.getRflags() & (ZF | OTHERS)).toBe(SF);
        // cmpxchg16b needs a 16-byte aligned operand (8-aligned is not enough): #GP(0), nothing changes.
        r = run([...lock, ...CX16], M + 8, [1n, 2n], [[0, 2n], [2, 0n], [3, 5n], [1, 6n]], 0x2, compiled);
        expect(r.cpu.lastFault?.vector).toBe(Vector.GP);
        expect(r.cpu.lastFault?.errorCode).toBe(0);
        expect(r.cpu.getRip()).toBe(0x1000n);
        expect(r.m).toEqual([1n, 2n]);
        expect(r.cpu.getReg(0)).toBe(2n);
        // The destination is accessed as a write even when the compare fails: a read-only page faults (#PF, P|W).
        for (const code of [CX8, CX16]) {
          r = run([...lock, ...code], RO, [0x77n, 0x88n], [[0, 0n], [2, 0n]], 0x2, compiled);
          expect(r.cpu.lastFault?.vector).toBe(Vector.PF);
          expect(r.cpu.lastFault?.errorCode).toBe(3);
          expect(r.cpu.getReg(0)).toBe(0n);
        }
      }
    }
    // The register form (mod = 3) is no instruction: #UD.
    expect(run([0x0f, 0xc7, 0xce], M, [], [], 0x2, false).cpu.lastFault?.vector).toBe(Vector.UD);
  });
});
