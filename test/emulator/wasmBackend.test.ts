// The Wasm block backend (emulator/jit/wasm/) against the JS block compiler
// and the interpreter: random blocks of the forms both backends inline
// (and some handler calls between them), from random registers and random
// lazy-flag states, must leave the same registers, the same raw lazy-flag
// fields as the JS backend, the same RFLAGS as the interpreter, the same
// RIP, clock and memory; loops, faults, budget stops and writes into code
// must come out as the interpreter has them.
import { describe, it, expect } from 'vitest';
import { Cpu, FlatMemory, Stop, captureState } from '../../emulator/index.ts';
import { WasmMachine } from '../../emulator/jit/wasm/machine.ts';
import { encodeModule, I32 } from '../../emulator/jit/wasm/encode.ts';
import { cfFunction, condFunction, FLAG_PARAMS } from '../../emulator/jit/wasm/flags.ts';
import { condition, getCF } from '../../emulator/flags.ts';
import { assemble } from './assemble.ts';
import { walkProgram, cmpLoadBranchProgram, mapFirst2MiB } from './programs.ts';

const CODE = 0x1000, DATA = 0x20000, STACK = 0x80000, RAM = 4 << 20;
const FIELDS = ['fOp', 'fSize', 'fA', 'fAh', 'fB', 'fBh', 'fR', 'fRh', 'fAux'] as const;

/** A deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
}

/** interp: the compiler off; js: the JS compiler; wasm: Wasm functions per block; wasm-region: the product's Wasm backend (regions too). */
type Mode = 'interp' | 'js' | 'wasm' | 'wasm-region';

/** A machine with 4-level paging over the first 2 MiB (an access at 0x200000 or above raises #PF). */
function machine(code: Uint8Array, mode: Mode): Cpu {
  const m = mode === 'wasm' || mode === 'wasm-region' ? new WasmMachine(RAM, { regions: mode === 'wasm-region' }) : null;
  const mem = m !== null ? m.flat : new FlatMemory(RAM);
  mem.write(CODE, code);
  const cpu = m !== null ? new Cpu({ memory: mem, wasm: m }) : new Cpu({ memory: mem });
  cpu.resetFlat64();
  mapFirst2MiB(cpu, (a, bytes) => mem.write(a, bytes));
  cpu.jitThreshold = mode === 'interp' ? 0 : 2;
  cpu.setRip(BigInt(CODE));
  cpu.setReg(4, BigInt(STACK));
  return cpu;
}

function flagFields(c: Cpu): number[] { return FIELDS.map((f) => c[f]); }
function ram(c: Cpu): Uint8Array { return c.ram; }

// ---------------------------------------------------------------- the flag helpers

describe('lazy-flag evaluation in Wasm', () => {
  const mem = new WebAssembly.Memory({ initial: 1 });
  const fn = (f: ReturnType<typeof cfFunction>, params: number[]) => {
    const bytes = encodeModule({ imports: [], memoryPages: 1, funcs: [{ type: { params, results: [I32] }, locals: f.locals, body: f.body }] });
    return new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { mem } }).exports.run as (...a: number[]) => number;
  };
  const cf = fn(cfFunction(), FLAG_PARAMS), cond = fn(condFunction(), [...FLAG_PARAMS, I32]);

  it('gives getCF and condition(cc) for every lazy operation, width and condition', () => {
    const r = rng(7);
    const c = { fOp: 0, fSize: 32, fA: 0, fAh: 0, fB: 0, fBh: 0, fR: 0, fRh: 0, fAux: 0 };
    const pick = () => { const v = r(); return (v & 3) === 0 ? [0, -1, 1, 0x80000000 | 0, 0x7fffffff][v % 5]! : v | 0; };
    for (let k = 0; k < 20000; k++) {
      c.fOp = r() % 9; c.fSize = [8, 16, 32, 64][r() & 3]!;
      c.fA = pick(); c.fAh = pick(); c.fB = pick(); c.fBh = pick(); c.fR = pick(); c.fRh = pick(); c.fAux = r() & 0xfff;
      if ((k & 7) === 0) { c.fB = c.fA; c.fBh = c.fAh; } // equal operands
      const args = FIELDS.map((f) => c[f]);
      expect(cf(...args)).toBe(getCF(c as unknown as Cpu));
      for (let cc = 0; cc < 16; cc++) expect(cond(...args, cc)).toBe(condition(c as unknown as Cpu, cc) ? 1 : 0);
    }
  });
});

// ---------------------------------------------------------------- random blocks

const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w'];
const R8 = ['al', 'cl', 'dl', 'bl', 'sil', 'dil', 'r8b', 'r9b', 'r10b'];
const R8H = ['ah', 'ch', 'dh', 'bh'];
const R8L = ['al', 'cl', 'dl', 'bl']; // encodable together with AH..BH
const ALU = ['add', 'or', 'and', 'sub', 'xor', 'cmp', 'test', 'adc', 'sbb'];
const SHIFT = ['shl', 'shr', 'sar', 'rol', 'ror', 'sal', 'rcl'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** One random instruction (Intel syntax); memory operands are [rbp + d] inside the data pages, some crossing a page. */
function randomInsn(r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[r() % xs.length]!;
  const imm32 = () => { const v = r() | 0; return (r() & 3) === 0 ? `${v % 9}` : `${v}`; };
  const disp = () => { const k = r() % 10; return k === 0 ? 0xffe - (r() % 7) + 0x1000 * (r() % 2) : (r() % 0x1ff8); };
  const m = (size: string) => `${size} ptr [rbp + ${disp()}]`;
  switch (r() % 30) {
    case 0: return `mov ${pick(R64)}, ${pick(R64)}`;
    case 1: return `mov ${pick(R32)}, ${(r() & 1) ? pick(R32) : imm32()}`;
    case 2: return `movabs ${pick(R64)}, 0x${r().toString(16)}${r().toString(16).padStart(8, '0')}`;
    case 3: case 4: return `${pick(ALU)} ${pick(R32)}, ${(r() & 1) ? pick(R32) : imm32()}`;
    case 5: case 6: return `${pick(ALU)} ${pick(R64)}, ${(r() & 1) ? pick(R64) : imm32()}`;
    case 7: { const w = r() & 1; return `${pick(ALU)} ${pick(w ? R8 : R16)}, ${(r() & 1) ? pick(w ? R8 : R16) : r() % 256}`; }
    case 8: { const q = r() & 1; const reg = pick(q ? R64 : R32); const op = pick(ALU); return (r() & 1) && op !== 'test' ? `${op} ${reg}, ${m(q ? 'qword' : 'dword')}` : `${op} ${m(q ? 'qword' : 'dword')}, ${(r() & 1) ? reg : imm32()}`; }
    case 9: return (r() & 1) ? `imul ${pick(R32)}, ${pick(R32)}` : `imul ${pick(R32)}, ${m('dword')}`;
    case 10: return `not ${(r() & 1) ? pick(R64) : pick(R32)}`;
    case 11: case 12: { const w = r() % 3; return `${pick(SHIFT)} ${pick(w === 0 ? R64 : w === 1 ? R32 : R16)}, ${r() % 40}`; }
    case 13: return `${pick(SHIFT)} ${(r() & 1) ? pick(R64) : pick(R32)}, cl`;
    case 14: { const k = r() % 3; return k === 0 ? `mov ${pick(R16)}, ${m('word')}` : k === 1 ? `mov ${m('word')}, ${pick(R16)}` : `mov ${m('word')}, ${r() % 65536}`; }
    case 15: case 16: { const q = r() & 1; return (r() & 1) ? `mov ${pick(q ? R64 : R32)}, ${m(q ? 'qword' : 'dword')}` : `mov ${m(q ? 'qword' : 'dword')}, ${(r() & 1) ? pick(q ? R64 : R32) : imm32()}`; }
    case 17: { const k = r() % 3; return k === 0 ? `mov ${m('byte')}, ${pick(R8)}` : k === 1 ? `mov ${m('byte')}, ${pick(R8H)}` : `mov ${m('byte')}, ${r() % 256}`; }
    case 18: return `movzx ${(r() & 1) ? pick(R32) : pick(R64)}, ${m((r() & 1) ? 'byte' : 'word')}`;
    case 19: { const k = r() % 3; return k === 0 ? `movzx ${pick(R32)}, ${pick(R8L)}` : k === 1 ? `movzx ${pick(R32.slice(0, 6))}, ${pick(R8H)}` : `movzx ${pick(R32)}, ${pick(R16)}`; }
    case 20: return `lea ${(r() & 1) ? pick(R64) : pick(R32)}, [${pick(R64)} + ${pick(R64)}*${pick([1, 2, 4, 8])} + ${imm32()}]`;
    case 21: return `${(r() & 1) ? 'inc' : 'dec'} ${(r() & 1) ? pick(R64) : pick(R32)}`;
    case 22: return (r() & 1) ? `cmov${pick(CC)} ${pick(R64)}, ${pick(R64)}` : `cmov${pick(CC)} ${pick(R32)}, ${pick(R32)}`;
    case 23: return `set${pick(CC)} ${(r() & 1) ? pick(R8) : pick(R8H)}`;
    case 24: { const k = r() % 5; return k === 0 ? `push ${imm32()}` : k === 1 ? `bswap ${(r() & 1) ? pick(R64) : pick(R32)}` : k === 2 ? `push ${pick(R64)}` : `pop ${pick(R64)}`; }
    // Handler calls between inline code.
    case 25: return pick([`bsf ${pick(R32)}, ${pick(R32)}`, `movsx ${pick(R64)}, ${pick(R16)}`, `neg ${pick(R64)}`, `xchg ${pick(R64)}, ${pick(R64)}`, `adc ${m('dword')}, ${pick(R32)}`, `push qword ptr [rbp + 8]`]);
    case 26: return `mov ${pick(R32)}, ${m('dword')}`;
    case 27: return `add ${m('dword')}, ${pick(R32)}`;
    case 28: return `cmp ${pick(R64)}, ${m('qword')}`;
    default: return `sub ${pick(R32)}, ${pick(R32)}`;
  }
}

/** Random registers (RSP and RBP fixed: the stack and the data) and a random lazy-flag state. */
function randomState(c: Cpu, r: () => number): void {
  for (let k = 0; k < 16; k++) { c.lo[k] = r() | 0; c.hi[k] = (r() & 1) ? r() | 0 : 0; }
  c.lo[4] = STACK - 0x100; c.hi[4] = 0;
  c.lo[5] = DATA; c.hi[5] = 0;
  c.fOp = r() % 9; c.fSize = [8, 16, 32, 64][r() & 3]!;
  c.fA = r() | 0; c.fAh = r() | 0; c.fB = (r() & 3) === 0 ? c.fA : r() | 0; c.fBh = r() | 0; c.fR = (r() & 3) === 0 ? 0 : r() | 0; c.fRh = r() | 0; c.fAux = r() & 0xfff;
}

describe('random blocks: Wasm against the JS block compiler and the interpreter', () => {
  const PROGRAMS = 300, SLOT = 1024;
  const r = rng(0x5eed);
  const progs: { n: number }[] = [];
  const src: string[] = [];
  for (let p = 0; p < PROGRAMS; p++) {
    const n = 1 + (r() % 24);
    src.push(`.org ${p * SLOT}`);
    for (let k = 0; k < n; k++) src.push(randomInsn(r));
    src.push(`j${CC[r() % 16]} 1f`, 'hlt', '1: hlt');
    progs.push({ n: n + 1 });
  }
  const code = assemble(src.join('\n'));
  const modes: Mode[] = ['interp', 'js', 'wasm'];
  const cpus = modes.map((m) => machine(code, m));
  const data = new Uint8Array(0x3000);
  it.each(progs.map((p, k) => [k, p.n] as const))('program %i (%i instructions)', (k, n) => {
    const seed = 0x1000 + k;
    const rd = rng(seed);
    for (let j = 0; j < data.length; j++) data[j] = rd() & 0xff;
    // Twice: the first run counts toward the threshold (interpreted), the second runs compiled.
    for (let pass = 0; pass < 2; pass++) {
      const states = cpus.map((c) => {
        c.ram.set(data, DATA);
        randomState(c, rng(seed * 3 + pass));
        c.setRip(BigInt(CODE + k * SLOT));
        const stop = c.run(n);
        return { stop, state: captureState(c), fields: flagFields(c) };
      });
      const [interp, js, wasm] = states as [typeof states[0], typeof states[0], typeof states[0]];
      expect(wasm.stop).toBe(interp.stop);
      expect(wasm.state).toEqual(interp.state);
      expect(js.state).toEqual(interp.state);
      expect(wasm.fields).toEqual(js.fields);
      expect(Buffer.compare(ram(cpus[2]!).subarray(DATA - 0x1000, DATA + 0x4000), ram(cpus[0]!).subarray(DATA - 0x1000, DATA + 0x4000))).toBe(0);
      expect(Buffer.compare(ram(cpus[2]!).subarray(STACK - 0x1000, STACK), ram(cpus[0]!).subarray(STACK - 0x1000, STACK))).toBe(0);
    }
    expect(cpus[2]!.blocksCompiled).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------- loops, faults, stops, writes into code

/** The Wasm backend's statistics from the last `same` run with regions. */
let lastRegionStats: WasmMachine['stats'] | null = null;

/** Run in the interpreter, with the JS compiler and with the Wasm backend (blocks, regions) in budget slices; compare after each. */
function same(source: string, slices: number[], expectRegions = false): Stop[] {
  const code = assemble(source);
  const stops: Stop[] = [];
  for (const mode of ['js', 'wasm', 'wasm-region'] as const) {
    const a = machine(code, 'interp'), b = machine(code, mode);
    stops.length = 0;
    for (const n of slices) {
      const sa = a.run(n), sb = b.run(n);
      expect(sb).toBe(sa);
      expect(b.lastFault?.vector).toBe(a.lastFault?.vector);
      expect(captureState(b)).toEqual(captureState(a));
      expect(Buffer.compare(b.ram, a.ram)).toBe(0);
      stops.push(sa);
    }
    expect(b.blocksCompiled).toBeGreaterThan(0);
    if (mode === 'js') continue;
    expect(b.wasm!.stats.compiled).toBeGreaterThan(0);
    if (mode === 'wasm-region' && expectRegions) expect(b.wasm!.stats.regions).toBeGreaterThan(0);
    if (mode === 'wasm-region') lastRegionStats = b.wasm!.stats;
  }
  return stops;
}

const WALK = walkProgram(DATA);

// A loop of several blocks (a region), walking up to the end of the mapping.
const BRANCHY = `
  mov rbx, 0x1ffc00
  xor ecx, ecx
  mov edi, ${DATA}
top:
  add edx, ecx
  test ecx, 1
  jz even
  lea r8, [rdx + rcx*4 + 7]
  mov rax, [rbx]
  shl r9, 3
  jmp join
even:
  mov [rdi + rcx*8], r9
  sub r8, rax
  cmp r8, rdx
  jb join
  xor r9d, r9d
join:
  add rbx, 16
  inc ecx
  jmp top`;

describe('Wasm blocks in the run loop', () => {
  it('a loop of several blocks: a fault in any of them, budget stops anywhere', () => {
    expect(same(BRANCHY, [1_000_000], true)[0]).toBe(Stop.Fault);
    same(BRANCHY, Array.from({ length: 80 }, (_, k) => 1 + (k % 11)), true);
  });


  it('a load that faults in a looping block leaves the state as before it', () => {
    expect(same(WALK, [1_000_000])[0]).toBe(Stop.Fault);
  });

  it('stops on the budget at every point of a looping block', () => {
    same(WALK, Array.from({ length: 60 }, (_, k) => 1 + (k % 7)));
  });

  it('a store that faults (write side) after flag-setting instructions', () => {
    expect(same(`
      mov rbx, 0x1fff00
      mov ecx, 300
    top:
      add eax, ecx
      rol eax, 5
      mov [rbx], eax
      add rbx, 8
      dec ecx
      jnz top
      hlt`, [1_000_000])[0]).toBe(Stop.Fault);
  });

  it('handler calls inside a looping block, with flags across them', () => {
    same(`
      mov ecx, 500
      xor eax, eax
    top:
      add eax, ecx
      push rax
      adc eax, 7
      pop rdx
      bsf esi, edx
      imul rdx, rcx
      sub edx, eax
      dec ecx
      jnz top
      hlt`, [1_000_000]);
  });

  it('a write into a page of code ends the block after it, and the changed code runs', () => {
    // The loop's block stays compiled (its page is not written); each store into the other page's decoded code
    // invalidates it and ends the block after the store; every eighth pass runs the patched code.
    same(`
      mov ecx, 100
    top:
      mov dword ptr [rip + patch + 1], ecx
      add eax, 1
      mov ebx, eax
      test ecx, 7
      jnz skip
      call patch
    skip:
      dec ecx
      jnz top
      hlt
    .org 0x1000
    patch:
      mov edx, 0x11111111
      add esi, edx
      ret`, [1_000_000, 1_000_000], true);
  });

  it('a 16-bit load between a compare and its branch does not disturb the branch', () => {
    same(cmpLoadBranchProgram(DATA), [1_000_000], true);
  });

  it('push and pop compiled inline: across pages and TLB misses, up to the #PF below the mapping', () => {
    // RSP walks up 8 bytes a pass (two pops, one push) through 16 pages to the end of the mapping at 0x200000.
    expect(same(`
      mov rsp, 0x1f0000
      mov ecx, 0x100000
    top:
      pop rdx
      bswap rcx
      push rcx
      bswap edx
      add rax, rdx
      pop rsi
      test ecx, 3
      jnz skip
      push -7
      pop rdi
    skip:
      bswap rcx
      dec ecx
      jnz top
      hlt`, [1_000_000], true)[0]).toBe(Stop.Fault);
  });

  it('calls and returns between blocks and regions: three call sites, a branch in the callee, budget stops anywhere', () => {
    // The callee returns to three places by turns (ret's target compared with the region's blocks it returned to
    // and its return sites, else the run loop).
    const src = `
      mov ecx, 3000
    top:
      mov eax, ecx
      call f
      add ebx, eax
      test ecx, 1
      jz skip
      call f
      sbb edx, ebx
      adc rsi, rdx
      call f
      xor edi, eax
    skip:
      dec ecx
      jnz top
      hlt
    f:
      add eax, 0x9e3779b9
      jc f1
      xor eax, ebx
      ret
    f1:
      rol eax, 7
      cmp eax, edx
      adc eax, 3
      ret`;
    expect(same(src, [10_000_000], true)[0]).toBe(Stop.Halt);
    same(src, Array.from({ length: 90 }, (_, k) => 1 + (k % 13)), true);
    // Blocks that got hot by themselves inside a region ran it from their own entry.
    expect(lastRegionStats!.regionEntries).toBeGreaterThan(0);
  });

  it('a call whose push faults and a ret whose pop faults (#SS: RSP made non-canonical) leave RSP and RIP at the instruction', () => {
    for (const at of ['call', 'ret']) {
      const stops = same(`
        movabs r10, 0x800000000010
        mov ecx, 500
      top:
        ${at === 'call' ? 'cmp ecx, 1\n        cmove rsp, r10' : ''}
        call f
        dec ecx
        jnz top
        hlt
      f:
        add eax, ecx
        ${at === 'ret' ? 'cmp ecx, 1\n        cmove rsp, r10' : ''}
        ret`, [1_000_000], true);
      expect(stops[0]).toBe(Stop.Fault);
    }
  });

  it('a push with a non-canonical RSP is #SS in compiled code, as in the interpreter (not the #GP of other operands)', () => {
    const code = assemble(`
      movabs r10, 0x800000000010
      mov ecx, 100
    top:
      cmp ecx, 1
      cmove rsp, r10
      push rax
      pop rdx
      dec ecx
      jnz top
      hlt`);
    for (const mode of ['interp', 'js', 'wasm', 'wasm-region'] as const) {
      const c = machine(code, mode);
      expect(c.run(1_000_000), mode).toBe(Stop.Fault);
      expect(c.lastFault?.vector, mode).toBe(12);
      expect(c.getReg(4), mode).toBe(0x800000000010n);
      if (mode !== 'interp') expect(c.blocksCompiled, mode).toBeGreaterThan(0);
    }
  });

  it('a sha256-like round loop (rotates, 32-bit ALU, stack loads and stores)', () => {
    same(`
      mov ecx, 2000
      mov eax, 0x6a09e667
      mov ebx, 0xbb67ae85
    top:
      mov edx, eax
      ror edx, 2
      mov esi, eax
      ror esi, 13
      xor edx, esi
      mov esi, eax
      rol esi, 10
      xor edx, esi
      mov [rsp - 16], edx
      mov edi, ebx
      and edi, eax
      add edi, [rsp - 16]
      lea eax, [rdi + rdx + 0x428a2f98]
      shr edx, 3
      sub ebx, edx
      mov r8d, ecx
      and r8d, 63
      add dword ptr [rsp - 32 + r8*1], eax
      dec ecx
      jnz top
      hlt`, [1_000_000]);
  });
});
