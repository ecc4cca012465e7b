// Where QEMU's TCG (the 32-bit oracle on hosts that refuse 32-bit code,
// native.ts) is known to differ from the manuals and from real CPUs, and
// what is left out of the comparison there. Each entry was found by the
// 32-bit twins (docs/differential.md lists them) and is checked against
// the manuals and against the host CPU's result for the 64-bit form; none
// applies to a CPU oracle. Cases QEMU dies on (an abort or a host signal
// inside TCG) that no entry here foresees are skipped by native.ts as they
// happen.

import type { Case } from './generate.ts';
import { CF, RF } from './layout.ts';

interface Quirk {
  /** What QEMU does, and what the manuals say instead. */
  why: string;
  /** Why the case is not run on QEMU at all, or null. */
  skip?(c: Case): string | null;
  /** The case's comparison with the quirk masked (`vector`: QEMU's result), or null when it does not apply. */
  mask?(c: Case, vector: number): Case | null;
}

const masked = (c: Case, note: string, m: { flags?: number; gpr?: [number, bigint] }): Case => {
  const gpr = [...c.masks.gpr];
  if (m.gpr) gpr[m.gpr[0]] = gpr[m.gpr[0]]! & m.gpr[1];
  return { ...c, masks: { ...c.masks, flags: (c.masks.flags & ~(m.flags ?? 0)) >>> 0, gpr, notes: [...c.masks.notes, `QEMU oracle: ${note}`] } };
};

/** Index of the opcode byte after legacy prefixes. */
const opIndex = (code: Uint8Array) => {
  let k = 0;
  while (k < code.length && [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65].includes(code[k]!)) k++;
  return k;
};

export const QEMU_QUIRKS: Quirk[] = [
  {
    why: 'RF not set in the RFLAGS image of a fault (QEMU user mode builds the signal frame without it); the CPU pushes RF = 1 for a fault (SDM Vol. 3A "Instruction-Breakpoint Exception Condition", APM Vol. 2 "Resume Flag")',
    mask: (c, v) => v >= 0 && (c.masks.flags & RF) ? masked(c, 'RF of a fault not compared', { flags: RF }) : null,
  },
  {
    why: 'bswap r16 writes a 32-bit byte swap of the whole register (bits 31:16 too); the SDM and APM leave only the 16-bit result undefined, and CPUs keep bits 31:16 (the 64-bit form on the host CPU shows it)',
    mask: (c) => c.form.id.startsWith('bswap r16') ? masked(c, 'bswap r16 destination bits 31:16 not compared', { gpr: [c.input.code[opIndex(c.input.code) + 1]! & 7, ~0xffff0000n] }) : null,
  },
  {
    why: 'blsi computes CF inverted; SDM Vol. 2A and APM Vol. 3 BLSI: CF is set when the source is not zero',
    mask: (c) => c.form.id.startsWith('blsi ') ? masked(c, 'blsi CF not compared', { flags: CF }) : null,
  },
  {
    why: 'lock xchg / lock xadd with a register destination execute; the LOCK prefix on a register destination is #UD (SDM Vol. 2A LOCK, APM Vol. 3 §1.2.5)',
    skip: (c) => c.ud && /^lock (xchg|xadd) /.test(c.form.id) ? 'QEMU runs lock xchg/xadd on a register instead of #UD' : null,
  },
  {
    why: 'lock bts / btr / btc with a register destination abort QEMU (TCG fatal error); the LOCK prefix on a register destination is #UD (SDM Vol. 2A LOCK)',
    skip: (c) => c.ud && /^lock bt[src] /.test(c.form.id) ? 'QEMU aborts on lock bts/btr/btc with a register (TCG fatal error)' : null,
  },
  {
    why: 'idiv of the least dividend (DX:AX = 8000_0000h, EDX:EAX = 8000_0000_0000_0000h) by -1 kills QEMU with a host SIGFPE (its helper divides natively); the quotient overflows, so the CPU raises #DE (SDM Vol. 2A IDIV)',
    // The generator pairs that dividend with the divisor -1 only (forms/alu.ts), so the divisor is not decoded here.
    skip: (c) => {
      const m = /^idiv r\/m(16|32) /.exec(c.form.id);
      if (!m) return null;
      const w = BigInt(m[1]!), mask = (1n << w) - 1n, [a, d] = [c.input.gpr[0]! & mask, c.input.gpr[2]! & mask];
      return a === 0n && d === 1n << (w - 1n) ? 'QEMU dies (host SIGFPE) on idiv of the least dividend by -1' : null;
    },
  },
  {
    why: 'ret imm16 sign-extends the immediate (ESP moves back by 64 KiB for imm16 ≥ 8000h); SDM Vol. 2B and APM Vol. 3 RET: imm16 is the unsigned count of bytes to release',
    mask: (c) => {
      const code = c.input.code, k = opIndex(code);
      if (code[k] !== 0xc2 || !(code[k + 2]! & 0x80)) return null;
      return masked(c, 'ret imm16 ≥ 8000h: ESP not compared', { gpr: [4, 0n] });
    },
  },
];

/** Why the case is not run on QEMU, or null. */
export function qemuSkip(c: Case): string | null {
  for (const q of QEMU_QUIRKS) {
    const why = q.skip?.(c);
    if (why) return why;
  }
  return null;
}

/** The case as compared with QEMU's result (`vector` is QEMU's). */
export function qemuCompared(c: Case, vector: number): Case {
  let out = c;
  for (const q of QEMU_QUIRKS) out = q.mask?.(out, vector) ?? out;
  return out;
}
