// Data movement: mov (all encodings), movzx/movsx/movsxd, lea, xchg,
// cmpxchg, cmpxchg8b/16b, xadd, bswap, cbw..cqo, lahf/sahf, clc..std, nops,
// setcc, cmovcc.

import { encode } from '../encode.ts';
import { Gen } from '../gen.ts';
import { ALL, WIDE, CC, S8, S8X, S16, S32, S64, idOf, izSize, sizeSpec, type Form } from './common.ts';

export function moveForms(): Form[] {
  const out: Form[] = [];
  const f = (id: string, group: string, gen: (g: Gen) => void, cases = 160, undef = '') =>
    out.push({ id, group, undefined: undef, cases, gen });

  // mov 88/89 (r/m,r), 8A/8B (r,r/m), C6/C7 (r/m,imm), B0/B8+r (r,imm incl. imm64), A0-A3 (moffs64).
  for (const sv of ALL) {
    const w = sv.size, legacy8 = w === 8 && !sv.rex8;
    for (const [tmpl, op8, op] of [['mov r/m#,r#', 0x88, 0x89], ['mov r#,r/m#', 0x8a, 0x8b]] as const) {
      f(idOf(tmpl, sv), 'mov', (g) => {
        const rm = g.rm(w, sv.mode8, 0.5);
        const r = g.reg(w, sv.mode8, { noRex: legacy8 });
        g.setRm(rm, g.value(w)); g.setReg(r, g.value(w));
        g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? op8 : op], reg: r.enc, rm: Gen.rmSpec(rm) });
      });
    }
    f(idOf(`mov r/m#,imm${w === 64 ? 32 : w}`, sv), 'mov', (g) => {
      const rm = g.rm(w, sv.mode8, 0.5);
      const isz = izSize(w);
      g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? 0xc6 : 0xc7], reg: 0, rm: Gen.rmSpec(rm), imm: { value: g.value(isz * 8), size: isz } });
    });
    f(idOf(`mov r#,imm${w}`, sv), 'mov', (g) => {
      const r = g.reg(w, sv.mode8, { noRex: legacy8 });
      g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? 0xb0 : 0xb8], opReg: r.enc, imm: { value: g.value(w), size: (w / 8) as 1 | 2 | 4 | 8 } });
    });
    if (!sv.rex8) {
      const acc = ({ 8: 'al', 16: 'ax', 32: 'eax', 64: 'rax' })[w];
      for (const [tmpl, op8, op] of [[`mov ${acc},moffs64`, 0xa0, 0xa1], [`mov moffs64,${acc}`, 0xa2, 0xa3]] as const) {
        f(tmpl, 'mov', (g) => {
          g.reserve(0);
          const addr = g.dataAddr(w / 8);
          g.poke(addr, g.value(w), w / 8);
          g.setReg({ gpr: 0, shift: 0, size: w }, g.value(w));
          g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? op8 : op], imm: { value: addr, size: 8 } });
        });
      }
    }
  }

  // movzx / movsx (0F B6/B7, 0F BE/BF), movsxd (63).
  for (const [mn, op8, op16] of [['movzx', 0xb6, 0xb7], ['movsx', 0xbe, 0xbf]] as const) {
    for (const dst of WIDE) {
      for (const src of [S8, S8X, S16]) {
        if (src.size >= dst.size || (dst.size === 64 && src.size === 8 && !src.rex8)) continue;
        const id = `${mn} r${dst.size},r/m${src.size}${src.rex8 ? ' rex' : ''}`;
        f(id, 'mov', (g) => {
          const legacy8 = src.size === 8 && !src.rex8;
          const rm = g.rm(src.size, src.mode8, 0.5);
          const r = g.reg(dst.size, 'rex', { noRex: legacy8 });
          g.setRm(rm, g.value(src.size));
          g.code = encode({ ...sizeSpec(dst), noRex: legacy8, forceRex: src.rex8, opcode: [0x0f, src.size === 8 ? op8 : op16], reg: r.enc, rm: Gen.rmSpec(rm) });
        });
      }
    }
  }
  for (const dst of WIDE) {
    f(`movsxd r${dst.size},r/m${dst.size === 64 ? 32 : dst.size}`, 'mov', (g) => {
      const sw = dst.size === 64 ? 32 : dst.size;
      const rm = g.rm(sw as 16 | 32, 'rex', 0.5);
      const r = g.reg(dst.size);
      g.setRm(rm, g.value(sw));
      g.code = encode({ ...sizeSpec(dst), opcode: [0x63], reg: r.enc, rm: Gen.rmSpec(rm) });
    });
  }

  // lea: random base/index values (nothing is accessed), both address sizes.
  for (const sv of WIDE) {
    f(idOf('lea r#,m', sv), 'mov', (g) => {
      const r = g.reg(sv.size);
      const mem = g.memAt(g.dataAddr(1), { any: g.rng.bool(0.5) });
      g.code = encode({ ...sizeSpec(sv), opcode: [0x8d], reg: r.enc, rm: { mem } });
    }, 400);
  }

  // xchg 86/87 (r/m,r), 90+r (eAX,r); cmpxchg 0F B0/B1; xadd 0F C0/C1.
  for (const sv of ALL) {
    const w = sv.size, legacy8 = w === 8 && !sv.rex8;
    f(idOf('xchg r/m#,r#', sv), 'xchg', (g) => {
      const rm = g.rm(w, sv.mode8, 0.5);
      const r = g.reg(w, sv.mode8, { noRex: legacy8 });
      g.setRm(rm, g.value(w)); g.setReg(r, g.value(w));
      g.code = encode({ ...sizeSpec(sv), opcode: [w === 8 ? 0x86 : 0x87], reg: r.enc, rm: Gen.rmSpec(rm) });
    });
    if (w !== 8) {
      f(idOf('xchg ' + ({ 16: 'ax', 32: 'eax', 64: 'rax' })[w] + ',r#', sv), 'xchg', (g) => {
        g.reserve(0);
        const r = g.rng.range(1, 15);
        g.reserve(r);
        g.setReg({ gpr: 0, shift: 0, size: w }, g.value(w));
        g.code = encode({ ...sizeSpec(sv), opcode: [0x90], opReg: r });
      });
    }
    for (const [mn, op] of [['cmpxchg', 0xb0], ['xadd', 0xc0]] as const) {
      f(idOf(`${mn} r/m#,r#`, sv), 'xchg', (g) => {
        g.reserve(0);
        const rm = g.rm(w, sv.mode8, 0.5);
        const r = g.reg(w, sv.mode8, { noRex: legacy8 });
        const dv = g.value(w);
        g.setRm(rm, dv); g.setReg(r, g.value(w));
        g.setReg({ gpr: 0, shift: 0, size: w }, g.rng.bool(0.5) ? dv : g.value(w));
        g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, w === 8 ? op : op + 1], reg: r.enc, rm: Gen.rmSpec(rm) });
      }, 240);
    }
  }

  // cmpxchg8b m64 (0F C7 /1), also with 66h (the operand size is fixed), and cmpxchg16b m128 (REX.W 0F C7 /1).
  f('cmpxchg8b m64', 'xchg', (g) => cmpxchgWideCase(g, false, []), 240);
  f('cmpxchg8b m64 (66h)', 'xchg', (g) => cmpxchgWideCase(g, false, [0x66]), 100);
  f('cmpxchg16b m128', 'xchg', (g) => cmpxchgWideCase(g, true, []), 240);

  // bswap 0F C8+r; the 16-bit form's result is undefined (masked).
  for (const sv of WIDE) {
    f(idOf('bswap r#', sv), 'bswap', (g) => {
      const r = g.reg(sv.size);
      g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, 0xc8], opReg: r.enc });
      if (sv.size === 16) g.maskDest(r, 'bswap r16: result undefined');
    }, 100, sv.size === 16 ? 'destination (16-bit bswap result is undefined)' : '');
  }

  // cbw cwde cdqe / cwd cdq cqo, lahf sahf, flag instructions, nops, pause.
  const simple: [string, number[]][] = [
    ['cbw', [0x66, 0x98]], ['cwde', [0x98]], ['cdqe', [0x48, 0x98]],
    ['cwd', [0x66, 0x99]], ['cdq', [0x99]], ['cqo', [0x48, 0x99]],
    ['lahf', [0x9f]], ['sahf', [0x9e]],
    ['clc', [0xf8]], ['stc', [0xf9]], ['cmc', [0xf5]], ['cld', [0xfc]], ['std', [0xfd]],
    ['nop', [0x90]], ['xchg ax,ax (66 90)', [0x66, 0x90]], ['pause', [0xf3, 0x90]],
    ['nop 3-byte', [0x0f, 0x1f, 0x00]], ['nop 4-byte', [0x0f, 0x1f, 0x40, 0x00]],
    ['nop 5-byte', [0x0f, 0x1f, 0x44, 0x00, 0x00]], ['nop 6-byte', [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00]],
    ['nop 7-byte', [0x0f, 0x1f, 0x80, 0, 0, 0, 0]], ['nop 8-byte', [0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]],
    ['nop 9-byte', [0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]], ['nop 10-byte', [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]],
    ['nop 11-byte', [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0]],
  ];
  for (const [id, bytes] of simple) {
    f(id, id.startsWith('nop') || id === 'pause' || id.startsWith('xchg') ? 'nop' : 'misc', (g) => {
      for (const r of [0, 2]) { const v = g.value(g.rng.pick([8, 16, 32, 64])); if (g.rng.bool(0.5)) g.setReg(r, v); }
      g.code = Uint8Array.from(bytes);
    }, 100);
  }
  // nop r/m (0F 1F /0) with random operands: nothing is accessed.
  for (const sv of WIDE) {
    f(idOf('nop r/m#', sv), 'nop', (g) => {
      const rm = g.rng.bool(0.5) ? { reg: g.reg(sv.size).enc } : { mem: g.memAt(g.dataAddr(1), { any: true }) };
      g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, 0x1f], reg: 0, rm });
    }, 100);
  }

  // setcc r/m8 (0F 90+cc) and cmovcc r, r/m (0F 40+cc) for all 16 conditions.
  CC.forEach((cc, n) => {
    for (const sv of [S8, S8X]) {
      f(idOf(`set${cc} r/m8`, sv), 'setcc', (g) => {
        const rm = g.rm(8, sv.mode8, 0.5);
        g.setRm(rm, g.value(8));
        g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, 0x90 + n], reg: 0, rm: Gen.rmSpec(rm) });
      }, 60);
    }
    for (const sv of [S16, S32, S64]) {
      f(idOf(`cmov${cc} r#,r/m#`, sv), 'cmovcc', (g) => {
        const rm = g.rm(sv.size, 'rex', 0.5);
        const r = g.reg(sv.size);
        g.setRm(rm, g.value(sv.size)); g.setReg(r, g.value(sv.size));
        g.code = encode({ ...sizeSpec(sv), opcode: [0x0f, 0x40 + n], reg: r.enc, rm: Gen.rmSpec(rm) });
      }, 60);
    }
  });
  return out;
}

/**
 * One cmpxchg8b (wide: cmpxchg16b) case. The memory operand's halves are
 * compared with EDX:EAX (RDX:RAX): equal half the time, else one half or
 * both differ; ECX:EBX (RCX:RBX) is stored when equal. The upper halves of
 * RAX/RDX keep random bits for cmpxchg8b (kept when equal, zeroed when not).
 * One case in ten has a register operand (#UD, mod = 3 encodes nothing);
 * one cmpxchg16b operand in five is not 16-byte aligned (#GP(0)), half of
 * those 8-byte aligned.
 */
export function cmpxchgWideCase(g: Gen, wide: boolean, prefixes: number[]): void {
  const r = g.rng;
  g.reserve(0, 1, 2, 3);
  const half = wide ? 64 : 32;
  const spec = { prefixes, rexW: wide, opcode: [0x0f, 0xc7], reg: 1 };
  if (r.bool(0.1)) {
    g.ud = true;
    g.code = encode({ ...spec, rm: { reg: g.pickGpr({ allowRsp: r.bool(0.2) }) } });
    return;
  }
  let addr = g.dataAddr(half / 4, wide ? { align: 16 } : {});
  if (wide && r.bool(0.2)) addr += r.bool(0.5) ? 8 : r.range(1, 15);
  const m0 = g.value(half), m1 = g.value(half);
  g.poke(addr, m0 | (m1 << BigInt(half)), half / 4);
  const flip = (v: bigint) => v ^ (1n << BigInt(r.int(half)));
  const k = r.int(6); // 0-2 equal; 3 low half differs; 4 high half differs; 5 both random
  const a = k === 3 ? flip(m0) : k === 5 ? g.value(half) : m0;
  const d = k === 4 ? flip(m1) : k === 5 ? g.value(half) : m1;
  g.setReg({ gpr: 0, shift: 0, size: half }, a);
  g.setReg({ gpr: 2, shift: 0, size: half }, d);
  g.setReg({ gpr: 3, shift: 0, size: half }, g.value(half));
  g.setReg({ gpr: 1, shift: 0, size: half }, g.value(half));
  g.code = encode({ ...spec, rm: { mem: g.memAt(addr) } });
}
