// A small x86-64 encoder for the forms the generator emits: legacy
// prefixes, REX, one- to three-byte opcodes, ModRM/SIB/displacement and
// immediates.  Encoding ourselves (rather than through an assembler) pins
// the exact form under test: accumulator vs ModRM immediates, 00 vs 02
// direction bits for register pairs, disp8 vs disp32, SIB with no base.

import { CODE_ENTRY } from './layout.ts';

/** A memory operand.  base/index are GPR numbers 0..15 (null = absent). */
export interface Mem {
  base: number | null;
  index: number | null;
  scale: 1 | 2 | 4 | 8;
  disp: number;           // signed, fits in 32 bits
  dispSize: 0 | 8 | 32;   // 0 only when base is present and base&7 != 5
  addr32: boolean;        // 0x67 address-size prefix
  /** RIP-relative (EIP-relative with addr32): the operand is at `target`; disp is computed from where the instruction ends. */
  rip?: { target: number };
}

/** r/m operand: a register (GPR or XMM number 0..15) or memory. */
export type RM = { reg: number } | { mem: Mem };

export interface EncodeSpec {
  prefixes?: number[];    // 0x66 / 0xF2 / 0xF3 / segment, emitted in order before 0x67
  rexW?: boolean;
  forceRex?: boolean;     // 8-bit SPL/BPL/SIL/DIL need a REX even with no bits set
  noRex?: boolean;        // AH..BH are in use: a REX would be an encoding error
  opcode: number[];       // after REX
  reg?: number;           // ModRM.reg (register number 0..15 or an opcode extension /n)
  rm?: RM;                // present => ModRM follows
  opReg?: number;         // register folded into the last opcode byte (+r)
  imm?: { value: bigint | number; size: 1 | 2 | 4 | 8 };
  imm2?: { value: bigint | number; size: 1 | 2 | 4 | 8 };
  /** A three-byte VEX prefix (C4) instead of REX: opcode map (2 = 0F38, 3 = 0F3A), implied prefix (0 none, 1 66, 2 F3, 3 F2), VEX.vvvv register, VEX.L. */
  vex?: { map: 1 | 2 | 3; pp: 0 | 1 | 2 | 3; vvvv: number; l: 0 | 1 };
}

let mode32 = false;
/** Encode for 32-bit code (compatibility mode): REX and RIP-relative operands do not exist there, asking for them throws. */
export function setEncodeMode(bits: 32 | 64): void { mode32 = bits === 32; }
export const NO_REX_IN_32 = 'REX or RIP-relative addressing in 32-bit code';

function pushLE(out: number[], v: bigint | number, size: number): void {
  let x = BigInt.asUintN(size * 8, BigInt(v));
  for (let i = 0; i < size; i++) { out.push(Number(x & 0xffn)); x >>= 8n; }
}

export function encode(s: EncodeSpec): Uint8Array {
  const out: number[] = [...(s.prefixes ?? [])];
  let rex = s.rexW ? 8 : 0;
  const reg = s.reg ?? 0;
  if (reg >= 8) rex |= 4;
  const body: number[] = [];
  let addr32 = false;
  let ripFix: { at: number; target: number } | null = null;
  if (s.rm) {
    if ('reg' in s.rm) {
      if (s.rm.reg >= 8) rex |= 1;
      body.push(0xc0 | ((reg & 7) << 3) | (s.rm.reg & 7));
    } else {
      const m = s.rm.mem;
      addr32 = m.addr32;
      if (m.index !== null) {
        if (m.index === 4) throw new Error('rsp cannot be an index');
        if (m.index >= 8) rex |= 2;
      }
      if (m.base !== null && m.base >= 8) rex |= 1;
      const ss = { 1: 0, 2: 1, 4: 2, 8: 3 }[m.scale];
      if (m.rip) {
        // mod=00 rm=101: [rip+disp32]; the displacement is patched once the length is known.
        body.push(0x05 | ((reg & 7) << 3));
        ripFix = { at: body.length, target: m.rip.target };
        pushLE(body, 0, 4);
      } else if (m.base === null) {
        // SIB with no base: mod=00, base=101, disp32.
        body.push(0x04 | ((reg & 7) << 3));
        body.push((ss << 6) | (((m.index ?? 4) & 7) << 3) | 5);
        pushLE(body, m.disp, 4);
      } else {
        let dsz = m.dispSize;
        if (dsz === 0 && (m.base & 7) === 5) dsz = 8;
        const mod = dsz === 0 ? 0 : dsz === 8 ? 1 : 2;
        if (m.index === null && (m.base & 7) !== 4) {
          body.push((mod << 6) | ((reg & 7) << 3) | (m.base & 7));
        } else {
          body.push((mod << 6) | ((reg & 7) << 3) | 4);
          body.push((ss << 6) | (((m.index ?? 4) & 7) << 3) | (m.base & 7));
        }
        if (dsz === 8) pushLE(body, m.disp, 1);
        if (dsz === 32) pushLE(body, m.disp, 4);
      }
    }
  }
  let opcode = [...s.opcode];
  if (s.opReg !== undefined) {
    if (s.opReg >= 8) rex |= 1;
    opcode[opcode.length - 1] = opcode[opcode.length - 1]! | (s.opReg & 7);
  }
  if (addr32) out.push(0x67);
  if (mode32 && (ripFix || (!s.vex && (rex || s.forceRex)))) throw new Error(NO_REX_IN_32);
  if (s.vex) {
    // C4 [R̄ X̄ B̄ mmmmm] [W v̄v̄v̄v̄ L pp]: REX's R X B and the vvvv register are stored inverted.
    out.push(0xc4, ((rex & 4) ? 0 : 0x80) | ((rex & 2) ? 0 : 0x40) | ((rex & 1) ? 0 : 0x20) | s.vex.map,
      ((rex & 8) ? 0x80 : 0) | ((~s.vex.vvvv & 15) << 3) | (s.vex.l << 2) | s.vex.pp);
  } else if (rex || s.forceRex) {
    if (s.noRex) throw new Error('REX needed with AH..BH');
    out.push(0x40 | rex);
  }
  const bodyAt = out.length + opcode.length;
  out.push(...opcode, ...body);
  if (s.imm) pushLE(out, s.imm.value, s.imm.size);
  if (s.imm2) pushLE(out, s.imm2.value, s.imm2.size);
  if (ripFix) {
    const disp: number[] = [];
    pushLE(disp, ripFix.target - (CODE_ENTRY + out.length), 4);
    out.splice(bodyAt + ripFix.at, 4, ...disp);
  }
  if (out.length > 15) throw new Error('instruction longer than 15 bytes');
  return Uint8Array.from(out);
}
