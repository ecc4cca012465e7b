// Compiled code keeps guest registers in JS locals (emulator/jit/compile.ts)
// and runs loops inside one function: these programs fault, stop on the
// budget and leave through handler calls in compiled code, and the state
// (every register, RFLAGS, RIP, the clock, memory) must be what the
// interpreter alone gives at the same point.
import { describe, it, expect } from 'vitest';
import { Cpu, FlatMemory, Stop, captureState } from '../../emulator/index.ts';
import { assemble } from './assemble.ts';
import { walkProgram, cmpLoadBranchProgram, mapFirst2MiB } from './programs.ts';

const CODE = 0x1000, DATA = 0x20000;

function machine(code: Uint8Array, threshold: number): Cpu {
  const mem = new FlatMemory(1 << 20);
  mem.write(CODE, code);
  const cpu = new Cpu({ memory: mem });
  cpu.resetFlat64();
  mapFirst2MiB(cpu, (a, bytes) => mem.write(a, bytes));
  cpu.jitThreshold = threshold;
  cpu.setRip(BigInt(CODE));
  cpu.setReg(4, 0x80000n);
  return cpu;
}

/** Run the program in the interpreter and with compilation after `threshold` runs of a block, in budget slices; compare after each. */
function same(source: string, slices: number[], threshold = 2): Stop[] {
  const code = assemble(source);
  const a = machine(code, 0), b = machine(code, threshold);
  const stops: Stop[] = [];
  for (const n of slices) {
    const sa = a.run(n), sb = b.run(n);
    expect(sb).toBe(sa);
    expect(captureState(b)).toEqual(captureState(a));
    expect(b.icount).toBe(a.icount);
    expect(Buffer.compare((b.mem as FlatMemory).ram, (a.mem as FlatMemory).ram)).toBe(0);
    stops.push(sa);
  }
  return stops;
}

const WALK = walkProgram(DATA);

describe('compiled code holds registers in locals', () => {
  it('a load that faults leaves the registers as before it (and the flags, RIP and clock)', () => {
    const stops = same(WALK, [1_000_000]);
    expect(stops[0]).toBe(Stop.Fault);
  });

  it('stops on the budget at every point of a compiled loop', () => {
    same(WALK, Array.from({ length: 60 }, (_, k) => 1 + (k % 7)));
  });

  it('a handler call in the middle of a compiled block sees and changes the registers', () => {
    same(`
      mov ecx, 200
      xor eax, eax
    top:
      add eax, ecx
      bswap eax
      lea rdx, [rax + rcx]
      cpuid
      add edx, eax
      mov [${DATA} + rcx*4], edx
      dec ecx
      jnz top
      mov rax, [rbx * 8 + 0x7ffff000]
      hlt`, [5000, 5000]);
  });

  it('a store that faults after register writes in the same block', () => {
    const stops = same(`
      mov rbx, 0x1fff00
      mov ecx, 100
    top:
      lea rsi, [rcx + 5]
      imul rsi, rsi
      add r11, rsi
      mov [rbx], r11
      add rbx, 8
      adc r12, 0
      jmp top`, [100_000]);
    expect(stops[0]).toBe(Stop.Fault);
  });

  it('a block that branches to itself loops inside its function: budget stops, the clock and a fault in a later pass', () => {
    const LOOP = `
      mov ecx, 300
      mov rbx, 0x1ffa00
      xor eax, eax
    top:
      add eax, ecx
      mov [rbx], eax
      movzx edx, word ptr [rbx + 2]
      add rbx, 8
      sub ecx, 1
      jnz top
      hlt`;
    same(LOOP, [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610]);
    const stops = same(LOOP.replace('mov ecx, 300', 'mov ecx, 1000'), [100_000]);
    expect(stops[0]).toBe(Stop.Fault);
  });

  it('a 16-bit load between a compare and its branch leaves the branch on the compare', () => {
    same(cmpLoadBranchProgram(DATA), [100_000]);
  });

  it('a looping block that writes its own code page ends its pass there (the block is decoded again)', () => {
    same(`
      mov ecx, 50
      lea rbx, [rip + patch]
    top:
      add eax, ecx
      mov [rbx], al
      dec ecx
      jnz top
      hlt
    patch:
      .byte 0`, [1000]);
  });
});

describe('compiled blocks that go on into their successors (regions)', () => {
  // A loop of short blocks: a conditional branch whose two sides branch again (two levels), then a load
  // that walks to the end of the mapping and faults in a successor block that runs inside its predecessor's function.
  const TREE = `
    mov rbx, 0x1ffc00
    xor ecx, ecx
  top:
    inc ecx
    test ecx, 1
    jz even
    add eax, ecx
    test ecx, 2
    jz odd2
    mov rdx, [rbx]
    add rbx, 8
    jmp top
  odd2:
    sub eax, 3
    jmp top
  even:
    lea edx, [rcx + rcx*2]
    cmp edx, 90
    ja big
    add esi, edx
    jmp top
  big:
    add edi, edx
    mov [rbx + 0x100], edi
    jmp top`;

  it('forms regions, and a fault inside a successor leaves state and clock as the interpreter does', () => {
    const stops = same(TREE, [1_000_000]);
    expect(stops[0]).toBe(Stop.Fault);
    const cpu = machine(assemble(TREE), 2);
    cpu.run(2000);
    const table = (cpu.blocks as unknown as { table: ({ span: number; insns: unknown[]; compiled: unknown } | undefined)[] }).table;
    expect(table.some((b) => b !== undefined && b.compiled !== null && b.span > b.insns.length)).toBe(true);
  });

  it('stops on the budget at every point, inside successors too', () => {
    same(TREE, Array.from({ length: 120 }, (_, k) => 1 + (k % 11)));
  });

  it('a write to a successor block\'s code invalidates the function that runs it', () => {
    // The taken side (on the next page, so only the function that runs it inline holds its code with the
    // branch) has its immediate patched after 300 passes: "add eax, 1" becomes "add eax, 5".
    same(`
      xor ecx, ecx
    top:
      inc ecx
      cmp ecx, 600
      je done
      test ecx, 1
      jz even
      add esi, 2
      jmp top
      .p2align 12
    even:
      add eax, 1
      cmp ecx, 300
      jne top
      lea rdx, [rip + even]
      mov byte ptr [rdx + 2], 5
      jmp top
    done:
      hlt`, [100_000], 8); // compiled after 8 passes: both sides of each branch have run by then
  });
});


