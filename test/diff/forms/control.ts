// Control flow and the stack: jcc, jmp, call, ret, loop*/jrcxz, push/pop,
// pushf/popf, enter/leave.  Branch targets land on the int3 bytes that fill
// the code page; return addresses and popped values are patched into the
// stack window.

import { encode } from '../encode.ts';
import { Gen } from '../gen.ts';
import { CODE_ENTRY, COMPARED_FLAGS, ID, STACK_WIN } from '../layout.ts';
import { CC, type Form } from './common.ts';

/** A rel8/rel32 displacement to a target outside [entry, entry+len). */
function rel(g: Gen, len: number, size: 1 | 4): number {
  for (;;) {
    const d = size === 1 ? g.rng.range(-128, 127) : g.rng.bool(0.5) ? g.rng.range(-0x7000, 0x7000) : g.rng.range(-300, 300);
    const t = CODE_ENTRY + len + d;
    if (t < CODE_ENTRY || t >= CODE_ENTRY + len) { g.branchTarget = t; return d; }
  }
}

export function controlForms(): Form[] {
  const out: Form[] = [];
  const f = (id: string, group: string, gen: (g: Gen) => void, cases = 120, undef = '') =>
    out.push({ id, group, undefined: undef, cases, gen });

  CC.forEach((cc, n) => {
    f(`j${cc} rel8`, 'jcc', (g) => { g.code = encode({ opcode: [0x70 + n], imm: { value: rel(g, 2, 1), size: 1 } }); }, 80);
    f(`j${cc} rel32`, 'jcc', (g) => { g.code = encode({ opcode: [0x0f, 0x80 + n], imm: { value: rel(g, 6, 4), size: 4 } }); }, 80);
  });

  f('jmp rel8', 'jmp', (g) => { g.code = encode({ opcode: [0xeb], imm: { value: rel(g, 2, 1), size: 1 } }); });
  f('jmp rel32', 'jmp', (g) => { g.code = encode({ opcode: [0xe9], imm: { value: rel(g, 5, 4), size: 4 } }); });
  const indirect = (g: Gen, ext: number) => {
    const t = BigInt(g.target(16, 0x4000));
    if (g.rng.bool(0.5)) {
      const r = g.reg(64);
      g.setReg(r, t);
      g.code = encode({ opcode: [0xff], reg: ext, rm: { reg: r.enc } });
    } else {
      const addr = g.dataAddr(8);
      g.poke(addr, t, 8);
      g.code = encode({ opcode: [0xff], reg: ext, rm: { mem: g.memAt(addr, { allowRspBase: false }) } });
    }
  };
  f('jmp r/m64', 'jmp', (g) => indirect(g, 4), 200);
  f('call rel32', 'call', (g) => { g.reserve(4); g.code = encode({ opcode: [0xe8], imm: { value: rel(g, 5, 4), size: 4 } }); });
  f('call r/m64', 'call', (g) => { g.reserve(4); indirect(g, 2); }, 200);
  const retTo = (g: Gen) => g.poke(Number(g.gpr[4]!), BigInt(g.target(3, 0x4000)), 8);
  f('ret', 'ret', (g) => { g.reserve(4); retTo(g); g.code = Uint8Array.of(0xc3); });
  f('ret imm16', 'ret', (g) => {
    g.reserve(4); retTo(g);
    g.code = encode({ opcode: [0xc2], imm: { value: g.rng.pick([0, 8, 0xffff, 0x8000, g.rng.range(0, 0xffff)]), size: 2 } });
  });

  // loop/loope/loopne/jrcxz, 64-bit (RCX) and 32-bit (67h, ECX) address size.
  const loops: [string, number][] = [['loopne', 0xe0], ['loope', 0xe1], ['loop', 0xe2], ['jrcxz', 0xe3]];
  for (const [mn, op] of loops) {
    for (const a32 of [false, true]) {
      const name = a32 ? (mn === 'jrcxz' ? 'jecxz' : `${mn} (67h, ecx)`) : mn;
      f(`${name} rel8`, 'loop', (g) => {
        g.reserve(1);
        const edge = [0n, 1n, 2n, 0x1_0000_0000n, 0x1_0000_0001n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn];
        g.setReg(1, g.rng.bool(0.6) ? g.rng.pick(edge) : g.rng.u64());
        const len = a32 ? 3 : 2;
        g.code = encode({ prefixes: a32 ? [0x67] : [], opcode: [op], imm: { value: rel(g, len, 1), size: 1 } });
      }, 160);
    }
  }

  // push / pop.
  const stackVal = (g: Gen, v: bigint, size: number) => g.poke(Number(g.gpr[4]!), v, size);
  f('push r64', 'push', (g) => { g.reserve(4); g.code = encode({ opcode: [0x50], opReg: g.rng.int(16) }); });
  f('push r16', 'push', (g) => { g.reserve(4); g.code = encode({ prefixes: [0x66], opcode: [0x50], opReg: g.rng.int(16) }); });
  f('pop r64', 'pop', (g) => { g.reserve(4); stackVal(g, g.value(64), 8); g.code = encode({ opcode: [0x58], opReg: g.rng.int(16) }); });
  f('pop r16', 'pop', (g) => { g.reserve(4); stackVal(g, g.value(16), 2); g.code = encode({ prefixes: [0x66], opcode: [0x58], opReg: g.rng.int(16) }); });
  for (const [w, pre] of [[64, []], [16, [0x66]]] as const) {
    f(`push m${w}`, 'push', (g) => {
      g.reserve(4);
      const addr = g.dataAddr(w / 8);
      g.poke(addr, g.value(w), w / 8);
      g.code = encode({ prefixes: [...pre], opcode: [0xff], reg: 6, rm: { mem: g.memAt(addr, { allowRspBase: false }) } });
    });
    f(`pop m${w}`, 'pop', (g) => {
      g.reserve(4);
      stackVal(g, g.value(w), w / 8);
      const addr = g.dataAddr(w / 8);
      g.code = encode({ prefixes: [...pre], opcode: [0x8f], reg: 0, rm: { mem: g.memAt(addr, { allowRspBase: false }) } });
    });
  }
  f('push imm8', 'push', (g) => { g.reserve(4); g.code = encode({ opcode: [0x6a], imm: { value: g.value(8), size: 1 } }); });
  f('push imm32', 'push', (g) => { g.reserve(4); g.code = encode({ opcode: [0x68], imm: { value: g.value(32), size: 4 } }); });
  f('push imm16', 'push', (g) => { g.reserve(4); g.code = encode({ prefixes: [0x66], opcode: [0x68], imm: { value: g.value(16), size: 2 } }); });

  // pushf/popf: popped images only carry CF PF AF ZF SF DF OF plus bits 1 and 9 (IF);
  // TF/AC/NT/ID stay clear so the host does not trap or change mode.
  f('pushfq', 'flags', (g) => { g.reserve(4); g.code = Uint8Array.of(0x9c); });
  f('pushfw', 'flags', (g) => { g.reserve(4); g.code = Uint8Array.of(0x66, 0x9c); });
  f('popfq', 'flags', (g) => { g.reserve(4); stackVal(g, BigInt((g.rng.u32() & (COMPARED_FLAGS | ID)) | 0x202), 8); g.code = Uint8Array.of(0x9d); });
  f('popfw', 'flags', (g) => { g.reserve(4); stackVal(g, BigInt((g.rng.u32() & (COMPARED_FLAGS | ID)) | 0x202), 2); g.code = Uint8Array.of(0x66, 0x9d); });

  // enter imm16, imm8 (nesting level 0..3, and 32/33 which mask to 0/1); leave.
  f('enter imm16,imm8', 'enter', (g) => {
    g.reserve(4, 5);
    g.setReg(5, BigInt(STACK_WIN + g.rng.range(40, 248) & ~(g.rng.bool(0.8) ? 7 : 0)));
    const level = g.rng.pick([0, 0, 1, 1, 2, 3, 32, 33]);
    const size = g.rng.pick([0, 8, 16, 0xffff, 0x8000, g.rng.range(0, 0xffff), g.rng.range(0, 64)]);
    g.code = encode({ opcode: [0xc8], imm: { value: size, size: 2 }, imm2: { value: level, size: 1 } });
  }, 240);
  for (const [id, pre] of [['leave', []], ['leave (66h, 16-bit)', [0x66]]] as const) {
    f(id, 'enter', (g) => {
      g.reserve(4, 5);
      const bp = STACK_WIN + g.rng.range(8, 240) & ~(g.rng.bool(0.8) ? 7 : 0);
      // 16-bit leave only replaces SP: keep RBP's upper bits equal to RSP's.
      g.setReg(5, (g.gpr[4]! & ~0xffffn) | BigInt(bp & 0xffff));
      g.poke(bp, g.value(64), 8);
      g.code = Uint8Array.from(pre.length ? [...pre, 0xc9] : [0xc9]);
    });
  }
  return out;
}
