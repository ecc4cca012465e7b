// The time model of rep string instructions (docs/time-model.md): each
// iteration is one unit of virtual time, runs stop between iterations at
// their budget and resume, scheduled events land between iterations, and
// the bulk copy paths give exactly the bytes of element-by-element copying.
import { describe, it, expect } from 'vitest';
import { Cpu, FlatMemory, Stop, Vector, FRAME_WRITE_SLOW, DF, TF, CR0_PG } from '../../emulator/index.ts';
import { BootMachine } from '../../src/machine/bootMachine.ts';
import { assemble } from './assemble.ts';

const CODE = 0x1000;

function machine(code: Uint8Array, memSize = 1 << 20): Cpu {
  const mem = new FlatMemory(memSize);
  mem.write(CODE, code);
  const cpu = new Cpu({ memory: mem });
  cpu.resetFlat64();
  cpu.setRip(BigInt(CODE));
  cpu.setReg(4, 0x80000n);
  return cpu;
}

function bootMachine(code: Uint8Array): BootMachine {
  const m = new BootMachine({ ramSize: 16 << 20 });
  m.cpu.resetFlat64();
  m.load(CODE, code, 'test code');
  m.cpu.setRip(BigInt(CODE));
  m.cpu.setReg(4, 0x80000n);
  return m;
}

/** The first index where two byte arrays differ, or -1 (vitest's deep equality is slow on large typed arrays). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (Buffer.compare(a, b) === 0) return -1;
  let k = 0;
  while (a[k] === b[k]) k++;
  return k;
}

const pattern = (n: number, base: number) => Uint8Array.from({ length: n }, (_, k) => (base + k * 7) & 0xff);
const RCX = 1, RSI = 6, RDI = 7;

describe('rep string instructions on the virtual clock', () => {
  it('counts one unit per iteration, and one for a zero count or no rep', () => {
    const cpu = machine(assemble(`
      mov ecx, 10
      rep stosb
      mov ecx, 0
      rep movsb
      stosq
      mov ecx, 5
      repe cmpsb
      hlt`));
    cpu.setReg(RDI, 0x20000n); cpu.setReg(RSI, 0x30000n);
    // The bytes compared differ at the third element: repe stops after 3 iterations.
    (cpu.mem as FlatMemory).write(0x30000, Uint8Array.of(0, 0, 1));
    expect(cpu.run(1000)).toBe(Stop.Halt);
    expect(cpu.getReg(RCX)).toBe(2n);
    expect(cpu.icount).toBe(1 + 10 + 1 + 1 + 1 + 1 + 3 + 1);
  });

  it('lets a scheduled event land between iterations of rep movsb (the copy carries what it wrote)', () => {
    const m = bootMachine(assemble(`
      mov rsi, 0x200000
      mov rdi, 0x300000
      mov ecx, 10
      rep movsb
      hlt`));
    const src = pattern(10, 0x10);
    m.ram.write(0x200000, src);
    const repAt = CODE + 7 + 7 + 5; // the two movs with imm32 (7 bytes each) and mov ecx (5)
    // The rep starts at time 3: iterations at 3..12. At time 6 three are done.
    let seen: { rip: bigint; rcx: bigint; rsi: bigint; rdi: bigint; icount: number } | null = null;
    m.scheduler.at(3 + 3, () => {
      const c = m.cpu;
      seen = { rip: c.getRip(), rcx: c.getReg(RCX), rsi: c.getReg(RSI), rdi: c.getReg(RDI), icount: c.icount };
      m.ram.writeBy(0x200002, Uint8Array.of(0xaa, 0xaa, 0xaa, 0xaa), { kind: 'hypervisor', icount: c.icount, what: 'test' });
    });
    expect(m.run(1000)).toBe(Stop.Halt);
    expect(seen).toEqual({ rip: BigInt(repAt), rcx: 7n, rsi: 0x200003n, rdi: 0x300003n, icount: 6 });
    // Bytes 0-2 were copied before the write; 3-5 after it; byte 2 of the source changed too late.
    const want = Uint8Array.from(src);
    want[3] = want[4] = want[5] = 0xaa;
    expect(m.ram.read(0x300000, 10)).toEqual(want);
    expect(m.cpu.getReg(RCX)).toBe(0n);
    expect(m.cpu.getReg(RSI)).toBe(0x20000an);
    expect(m.cpu.getReg(RDI)).toBe(0x30000an);
    expect(m.cpu.icount).toBe(3 + 10 + 1);
  });

  it('lets a scheduled event land between iterations of rep stosq (later iterations overwrite it, earlier ones do not)', () => {
    const m = bootMachine(assemble(`
      mov rdi, 0x300000
      mov rax, 0x1111111111111111
      mov ecx, 10
      rep stosq
      hlt`));
    // Iterations at 3..12; the event at 7 comes after elements 0-3.
    m.scheduler.at(7, () => {
      expect(m.cpu.getReg(RCX)).toBe(6n);
      expect(m.cpu.getReg(RDI)).toBe(0x300020n);
      m.ram.writeBy(0x300000 + 8 * 2, Uint8Array.of(0xbb), { kind: 'hypervisor', icount: 7, what: 'test' });
      m.ram.writeBy(0x300000 + 8 * 7, Uint8Array.of(0xcc), { kind: 'hypervisor', icount: 7, what: 'test' });
      m.ram.writeBy(0x300000 + 8 * 10, Uint8Array.of(0xdd), { kind: 'hypervisor', icount: 7, what: 'test' });
    });
    expect(m.run(1000)).toBe(Stop.Halt);
    const want = new Uint8Array(81).fill(0x11);
    want[16] = 0xbb; want[80] = 0xdd;
    expect(m.ram.read(0x300000, 81)).toEqual(want);
    expect(m.cpu.icount).toBe(3 + 10 + 1);
  });

  it('stops exactly at the budget between iterations and resumes the instruction in the next run', () => {
    const code = assemble(`
      mov ecx, 1000
      rep movsq
      inc rax
      hlt`);
    const setup = (cpu: Cpu) => {
      cpu.setReg(RSI, 0x20000n); cpu.setReg(RDI, 0x40000n);
      (cpu.mem as FlatMemory).write(0x20000, pattern(8000, 3));
    };
    const cpu = machine(code); setup(cpu);
    expect(cpu.run(1 + 300)).toBe(Stop.Budget);
    expect(cpu.icount).toBe(301);
    expect(cpu.getRip()).toBe(BigInt(CODE + 5));
    expect(cpu.getReg(RCX)).toBe(700n);
    expect(cpu.getReg(RSI)).toBe(0x20000n + 300n * 8n);
    expect(cpu.getReg(RDI)).toBe(0x40000n + 300n * 8n);
    expect((cpu.mem as FlatMemory).read(0x40000 + 300 * 8, 8)).toEqual(new Uint8Array(8));
    // Odd-sized slices (some ending inside a page's run, some at a page boundary) resume exactly.
    for (const b of [1, 2, 511, 1, 64]) expect(cpu.run(b)).toBe(Stop.Budget);
    expect(cpu.getReg(RCX)).toBe(700n - 579n);
    expect(cpu.run(10_000)).toBe(Stop.Halt);
    expect(cpu.icount).toBe(1 + 1000 + 1 + 1);
    expect(cpu.getReg(0)).toBe(1n);
    expect(firstDiff((cpu.mem as FlatMemory).read(0x40000, 8000), pattern(8000, 3))).toBe(-1);
    // The same state as one run.
    const one = machine(code); setup(one);
    expect(one.run(10_000)).toBe(Stop.Halt);
    expect(one.icount).toBe(cpu.icount);
    expect(firstDiff((one.mem as FlatMemory).read(0x40000, 8000), (cpu.mem as FlatMemory).read(0x40000, 8000))).toBe(-1);
  });

  it('ends a block when a rep used up the time the rest of the block needed', () => {
    // rep, then more instructions of the same block: a budget that covers the rep but not all of them.
    const code = assemble(`
      mov ecx, 20
      rep stosb
      inc rax
      inc rax
      inc rax
      hlt`);
    for (let budget = 1; budget <= 24; budget++) {
      const cpu = machine(code);
      cpu.setReg(RDI, 0x20000n);
      expect(cpu.run(budget)).toBe(Stop.Budget);
      expect(cpu.icount).toBe(budget);
      const done = Math.max(0, Math.min(20, budget - 1));
      expect(cpu.getReg(RCX)).toBe(BigInt(20 - done));
      expect(cpu.getReg(0)).toBe(BigInt(Math.max(0, Math.min(3, budget - 21))));
    }
  });

  it('restarts cleanly after a fault in the middle of a rep (the iterations done are counted)', () => {
    // 4-level paging with one 2 MiB identity page: the third byte of the store is unmapped.
    const cpu = machine(assemble('rep stosb\nhlt'), 4 << 20);
    const mem = cpu.mem as FlatMemory;
    const q = (v: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setUint32(0, v, true); return b; };
    mem.write(0x10000, q(0x11003)); mem.write(0x11000, q(0x12003)); mem.write(0x12000, q(0x83));
    cpu.cr3Lo = 0x10000; cpu.cr0 |= CR0_PG; cpu.updateMode(); cpu.flushTlb();
    cpu.setReg(RDI, 0x1ffffen);
    cpu.setReg(RCX, 4n);
    cpu.setReg(0, 0x5an);
    expect(cpu.run(100)).toBe(Stop.Fault);
    expect(cpu.lastFault?.vector).toBe(Vector.PF);
    expect(cpu.getRip()).toBe(BigInt(CODE));
    expect(cpu.getReg(RCX)).toBe(2n);
    expect(cpu.getReg(RDI)).toBe(0x200000n);
    expect(cpu.icount).toBe(2);
    expect(mem.read(0x1ffffe, 3)).toEqual(Uint8Array.of(0x5a, 0x5a, 0));
  });

  it('single-steps a rep one iteration at a time under TF (one #DB per iteration, RF set between them)', () => {
    const cpu = machine(assemble('mov ecx, 4\nrep movsb\nhlt'));
    cpu.setReg(RSI, 0x20000n); cpu.setReg(RDI, 0x30000n);
    (cpu.mem as FlatMemory).write(0x20000, Uint8Array.of(1, 2, 3, 4));
    cpu.setRflags(cpu.getRflags() | TF);
    const stops: { rip: bigint; rcx: bigint; rf: boolean }[] = [];
    for (let k = 0; k < 5; k++) {
      expect(cpu.run(100)).toBe(Stop.Fault);
      expect(cpu.lastFault?.vector).toBe(Vector.DB);
      stops.push({ rip: cpu.getRip(), rcx: cpu.getReg(RCX), rf: (cpu.getRflags() & 0x10000) !== 0 });
    }
    const rep = BigInt(CODE + 5), after = BigInt(CODE + 7);
    expect(stops).toEqual([
      { rip: rep, rcx: 4n, rf: false }, // after mov ecx
      { rip: rep, rcx: 3n, rf: true },
      { rip: rep, rcx: 2n, rf: true },
      { rip: rep, rcx: 1n, rf: true },
      { rip: after, rcx: 0n, rf: false }, // the last iteration completes the instruction
    ]);
    expect((cpu.mem as FlatMemory).read(0x30000, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(cpu.icount).toBe(5);
  });

  it('makes a step of stepLimit 1 one iteration, and resumes past an execution breakpoint on the rep', () => {
    const cpu = machine(assemble('mov ecx, 3\nrep stosb\nhlt'));
    cpu.setReg(RDI, 0x20000n);
    cpu.stepLimit = 1;
    const rep = CODE + 5;
    let hits = 0;
    cpu.addBreakpoint(rep, 0, () => { hits++; return true; });
    expect(cpu.run(100)).toBe(Stop.Breakpoint);
    expect(cpu.icount).toBe(1);
    const rcx: bigint[] = [];
    for (let k = 0; k < 3; k++) { expect(cpu.run(1)).toBe(Stop.Budget); rcx.push(cpu.getReg(RCX)); }
    expect(rcx).toEqual([2n, 1n, 0n]);
    expect(hits).toBe(1); // resuming the rep is not reaching it again
    expect(cpu.getRip()).toBe(BigInt(rep + 2));
    expect(cpu.run(100)).toBe(Stop.Halt);
    expect(cpu.icount).toBe(5);
  });

  it('suspends a rep right after the iteration during which a stop was requested (a watchpoint hook)', () => {
    class Watched extends FlatMemory {
      cpu: Cpu | null = null;
      override writeSlow(addr: number, size: number, value: number): void {
        super.writeSlow(addr, size, value);
        if (addr === 0x21003) this.cpu!.stopRequested = true;
      }
    }
    const mem = new Watched(1 << 20);
    mem.write(CODE, assemble('mov ecx, 100\nrep stosb\nhlt'));
    mem.frameFlags[0x21] = FRAME_WRITE_SLOW;
    const cpu = new Cpu({ memory: mem });
    mem.cpu = cpu;
    cpu.resetFlat64(); cpu.setRip(BigInt(CODE));
    cpu.setReg(RDI, 0x20ff0n); // 16 bytes in a fast page, then the watched one
    expect(cpu.run(1000)).toBe(Stop.Requested);
    expect(cpu.getReg(RCX)).toBe(100n - 20n);
    expect(cpu.getRip()).toBe(BigInt(CODE + 5));
    expect(cpu.icount).toBe(1 + 20);
    expect(cpu.run(1000)).toBe(Stop.Halt);
    expect(cpu.icount).toBe(1 + 100 + 1);
  });

  it('gives RDTSC and write records the time of the iteration (preciseIcount inside blocks)', () => {
    const m = bootMachine(assemble(`
      mov rdi, 0x300ffc
      mov ecx, 8
      rep stosb
      rdtsc
      hlt`));
    m.trackRange(0x301000, 4096); // the second half of the stores takes the recorded slow path
    expect(m.run(1000)).toBe(Stop.Halt);
    // Iterations at 2..9; bytes 4-7 (at 0x301000..) at times 6..9; rdtsc at 10.
    expect([0, 1, 2, 3].map((k) => m.ram.provenance.whoWrote(0x301000 + k)?.icount)).toEqual([6, 7, 8, 9]);
    expect(m.cpu.getReg(0) & 0xffffffffn).toBe(10n);
  });
});

/** Element-by-element rep movs in order: the reference for the bulk path. */
function referenceMovs(ram: Uint8Array, src: number, dst: number, count: number, bytes: number, down: boolean): void {
  const step = down ? -bytes : bytes;
  for (let k = 0; k < count; k++) {
    const v = ram.slice(src + k * step, src + k * step + bytes);
    ram.set(v, dst + k * step);
  }
}

describe('the bulk paths of rep movs and rep stos', () => {
  const SIZES: [number, string][] = [[1, 'b'], [2, 'w'], [4, 'd'], [8, 'q']];
  const code = new Map(SIZES.map(([b, s]) => [b, { movs: assemble(`rep movs${s}\nhlt`), stos: assemble(`rep stos${s}\nhlt`) }]));

  // A seeded generator: the cases are the same on every run.
  let seed = 12345;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };

  function runMovs(bytes: number, src: number, dst: number, count: number, down: boolean, slow: boolean, init: Uint8Array): Cpu {
    const cpu = machine(code.get(bytes)!.movs, 1 << 20);
    const mem = cpu.mem as FlatMemory;
    mem.write(0x40000, init);
    if (slow) { for (let f = 0x40; f < 0x48; f++) mem.frameFlags[f] = FRAME_WRITE_SLOW; cpu.flushTlb(); }
    cpu.setReg(RSI, BigInt(src)); cpu.setReg(RDI, BigInt(dst)); cpu.setReg(RCX, BigInt(count));
    if (down) cpu.setRflags(cpu.getRflags() | DF);
    expect(cpu.run(1_000_000)).toBe(Stop.Halt);
    expect(cpu.icount).toBe(Math.max(1, count) + 1);
    return cpu;
  }

  it('copies overlapping ranges exactly as element-by-element copying, in both directions (random cases)', () => {
    for (let t = 0; t < 400; t++) {
      const [bytes] = SIZES[rnd(4)]!;
      const down = rnd(2) === 1;
      const count = 1 + rnd(t % 4 === 0 ? 1500 : 40);
      const dist = (rnd(2) ? 1 : -1) * rnd(t % 3 === 0 ? 5000 : 3 * bytes * 4);
      // Sources near page boundaries as often as not.
      const src = (down ? 0x45000 : 0x41800) + (rnd(2) ? rnd(64) : 0x1000 - rnd(64));
      const dst = src + dist;
      const init = pattern(0x8000, t);
      const ref = Uint8Array.from(init);
      referenceMovs(ref, src - 0x40000, dst - 0x40000, count, bytes, down);
      const fast = runMovs(bytes, src, dst, count, down, false, init);
      const slow = runMovs(bytes, src, dst, count, down, true, init);
      const what = `movs${bytes} count ${count} src 0x${src.toString(16)} dist ${dist} ${down ? 'down' : 'up'}`;
      expect(firstDiff((fast.mem as FlatMemory).read(0x40000, 0x8000), ref), what).toBe(-1);
      expect(firstDiff((slow.mem as FlatMemory).read(0x40000, 0x8000), ref), what).toBe(-1);
      const delta = BigInt((down ? -1 : 1) * count * bytes);
      expect([fast.getReg(RSI), fast.getReg(RDI), fast.getReg(RCX)], what).toEqual([BigInt(src) + delta, BigInt(dst) + delta, 0n]);
    }
  });

  it('differs from memmove where rep movs does: a forward copy one element ahead repeats the first element', () => {
    const init = pattern(0x8000, 1);
    const cpu = runMovs(8, 0x41000, 0x41008, 100, false, false, init);
    const first = init.slice(0x1000, 0x1008);
    for (let k = 1; k <= 100; k++) expect((cpu.mem as FlatMemory).read(0x41000 + 8 * k, 8)).toEqual(first);
    // Half an element ahead: each element reads half of what the one before wrote.
    const half = runMovs(8, 0x41000, 0x41004, 3, false, false, init);
    const ref = Uint8Array.from(init);
    referenceMovs(ref, 0x1000, 0x1004, 3, 8, false);
    expect(firstDiff((half.mem as FlatMemory).read(0x40000, 0x8000), ref)).toBe(-1);
  });

  it('fills with rep stos of every size and direction exactly as iterating', () => {
    for (let t = 0; t < 100; t++) {
      const [bytes, s] = SIZES[rnd(4)]!;
      const down = rnd(2) === 1;
      const count = 1 + rnd(1000);
      const dst = 0x44000 + rnd(0x1000) - (down ? 0 : 0x2000);
      const value = (BigInt(rnd(1 << 30)) << 34n) | BigInt(rnd(1 << 30));
      const results = [false, true].map((slow) => {
        const cpu = machine(code.get(bytes)!.stos, 1 << 20);
        const mem = cpu.mem as FlatMemory;
        mem.write(0x40000, pattern(0x8000, t));
        if (slow) { for (let f = 0x40; f < 0x48; f++) mem.frameFlags[f] = FRAME_WRITE_SLOW; cpu.flushTlb(); }
        cpu.setReg(RDI, BigInt(dst)); cpu.setReg(RCX, BigInt(count)); cpu.setReg(0, value);
        if (down) cpu.setRflags(cpu.getRflags() | DF);
        expect(cpu.run(1_000_000), s).toBe(Stop.Halt);
        expect(cpu.icount).toBe(count + 1);
        return { ram: mem.read(0x40000, 0x8000), rdi: cpu.getReg(RDI) };
      });
      const what = `stos${s} ${count} at 0x${dst.toString(16)} ${down ? 'down' : 'up'}`;
      expect(firstDiff(results[0]!.ram, results[1]!.ram), what).toBe(-1);
      expect(results[0]!.rdi, what).toBe(results[1]!.rdi);
    }
  });
});

describe('exact time with and without the block compiler', () => {
  // A boot-like workload: fill, copy (forward, overlapping, relocating backwards with std), clear,
  // compare, scan and checksum, with "hypervisor" writes landing into the buffers at seeded times.
  const code = assemble(`
    mov r15, 300
    xor r14, r14
    mov rbx, 0x12345
  outer:
    mov rdi, 0x100000
    mov ecx, 512
  fill:
    imul rbx, rbx, 0x5851f42d
    add rbx, 0x3039
    mov [rdi], rbx
    add rdi, 8
    dec ecx
    jnz fill
    mov rsi, 0x100000
    mov rdi, 0x110000
    mov ecx, 512
    rep movsq
    mov rsi, 0x110000
    lea rdi, [rsi + r15]
    mov ecx, 3000
    rep movsb
    std
    mov rsi, 0x110000 + 8 * 1000
    lea rdi, [rsi + 0x100]
    mov ecx, 1000
    rep movsq
    mov rsi, 0x112000
    lea rdi, [rsi - 24]
    mov ecx, 700
    rep movsq
    cld
    mov rdi, 0x120000
    mov eax, r15d
    mov ecx, 2048
    rep stosd
    mov rsi, 0x110000
    mov rdi, 0x100000
    mov ecx, 4096
    repe cmpsb
    add r14, rcx
    mov al, 0x5a
    mov rdi, 0x110000
    mov ecx, 4096
    repne scasb
    add r14, rcx
    mov rsi, 0x110000
    mov ecx, 1024
  sum:
    add r14, [rsi]
    rol r14, 7
    add rsi, 8
    dec ecx
    jnz sum
    rdtsc
    add r14, rax
    dec r15
    jnz outer
    hlt`);

  interface Run { log: string[]; icount: number; ram: Uint8Array; records: (number | undefined)[] }

  function runWorkload(jitThreshold: number, slices: number[] | null): Run {
    const m = bootMachine(code);
    m.cpu.jitThreshold = jitThreshold;
    m.trackRange(0x111000, 0x1000); // the backward copies write this frame through the recorded slow path
    const log: string[] = [];
    let seed = 99;
    const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    let at = 0;
    for (let k = 0; k < 400; k++) {
      at += 1 + rnd(20_000);
      const addr = 0x100000 + rnd(0x22000), len = 1 + rnd(16), byte = rnd(256);
      m.scheduler.at(at, () => {
        const c = m.cpu;
        log.push(`${c.icount} ${c.getRip().toString(16)} ${c.getRflags().toString(16)} ${Array.from(c.lo).join(',')} ${Array.from(c.hi).join(',')}`);
        m.ram.writeBy(addr, new Uint8Array(len).fill(byte), { kind: 'hypervisor', icount: c.icount, what: 'test' });
      });
    }
    let stop: Stop;
    if (slices === null) stop = m.run(1e9);
    else {
      let k = 0;
      do stop = m.run(slices[k++ % slices.length]!); while (stop === Stop.Budget);
    }
    expect(stop).toBe(Stop.Halt);
    const records = Array.from({ length: 0x1000 }, (_, k) => m.ram.provenance.whoWrote(0x111000 + k)?.icount);
    return { log, icount: m.cpu.icount, ram: m.ram.read(0x100000, 0x30000), records };
  }

  it('gives identical time, state, memory and write records whether blocks are compiled or not, in any slicing', () => {
    const interpreted = runWorkload(1e9, null);
    expect(interpreted.log.length).toBeGreaterThan(300);
    expect(interpreted.records.filter((r) => r !== undefined).length).toBeGreaterThan(1000);
    for (const [threshold, slices] of [[40, null], [1, null], [40, [1, 7, 1000, 33, 4096]], [1e9, [3, 50_000]]] as [number, number[] | null][]) {
      const r = runWorkload(threshold, slices);
      const what = `threshold ${threshold}, slices ${slices?.join(',') ?? 'one run'}`;
      expect(r.icount, what).toBe(interpreted.icount);
      expect(r.log, what).toEqual(interpreted.log);
      expect(firstDiff(r.ram, interpreted.ram), what).toBe(-1);
      expect(r.records, what).toEqual(interpreted.records);
    }
  });
});
