// The SSE moves the boot code uses: movaps movups movdqa movdqu movq movd,
// and pxor/xorps. XMM registers are four int32 lanes each in Cpu.xmm.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { CR0_EM, CR0_TS, CR4_OSFXSR } from '../regs.ts';
import { CpuFault, Vector, gp } from '../fault.ts';
import { ea, getReg, setReg, readMem, writeMem } from './operands.ts';

function check(c: Cpu): void {
  if ((c.cr0 & CR0_EM) || !(c.cr4 & CR4_OSFXSR)) throw new CpuFault(Vector.UD, -1, 'SSE disabled (CR0.EM or !CR4.OSFXSR)');
  if (c.cr0 & CR0_TS) throw new CpuFault(Vector.NM, -1, 'SSE with CR0.TS set');
}

/** Read a 128-bit memory operand into out[0..3]; `aligned` forms need 16-byte alignment. */
const tmp = new Int32Array(4);
function load128(c: Cpu, i: Insn, aligned: boolean): void {
  ea(c, i);
  if (aligned && (c.eaLo & 15)) throw gp(0, 'misaligned 128-bit SSE operand');
  const l0 = c.read64(c.eaLo, c.eaHi), h0 = c.outHi;
  const lo2 = (c.eaLo + 8) | 0, hi2 = (c.eaHi + ((c.eaLo >>> 0) + 8 > 0xffffffff ? 1 : 0)) | 0;
  const l1 = c.read64(lo2, hi2), h1 = c.outHi;
  tmp[0] = l0; tmp[1] = h0; tmp[2] = l1; tmp[3] = h1;
}
function store128(c: Cpu, i: Insn, aligned: boolean, x: number): void {
  ea(c, i);
  if (aligned && (c.eaLo & 15)) throw gp(0, 'misaligned 128-bit SSE operand');
  const lo2 = (c.eaLo + 8) | 0, hi2 = (c.eaHi + ((c.eaLo >>> 0) + 8 > 0xffffffff ? 1 : 0)) | 0;
  const x4 = x * 4;
  // Probe the second half first so a fault there leaves memory untouched.
  c.readRmw64(lo2, hi2);
  c.write64(c.eaLo, c.eaHi, c.xmm[x4]!, c.xmm[x4 + 1]!);
  c.write64(lo2, hi2, c.xmm[x4 + 2]!, c.xmm[x4 + 3]!);
}

/** 128-bit move, xmm ← xmm/m128 or xmm/m128 ← xmm; op 1 = alignment required. */
export function mov128(c: Cpu, i: Insn): void {
  check(c);
  const aligned = i.op === 1;
  if (i.a >= 0 && i.b >= 0) { c.xmm.copyWithin(i.a * 4, i.b * 4, i.b * 4 + 4); return; }
  if (i.a >= 0) { load128(c, i, aligned); c.xmm.set(tmp, i.a * 4); return; }
  store128(c, i, aligned, i.b);
}

/** pxor / xorps xmm, xmm/m128 (memory must be aligned). */
export function xor128(c: Cpu, i: Insn): void {
  check(c);
  const d = i.a * 4;
  if (i.b >= 0) { const s = i.b * 4; for (let k = 0; k < 4; k++) c.xmm[d + k] = c.xmm[d + k]! ^ c.xmm[s + k]!; return; }
  load128(c, i, true);
  for (let k = 0; k < 4; k++) c.xmm[d + k] = c.xmm[d + k]! ^ tmp[k]!;
}

/**
 * movd/movq between xmm and a GPR or memory. op = width (32 or 64).
 * Loads into xmm zero the rest of the register; stores take the low lane(s).
 * Which side is the xmm: i.c === 1 means operand a is the xmm register.
 */
export function movdq(c: Cpu, i: Insn): void {
  check(c);
  const w = i.op;
  if (i.c === 1) { // xmm ← r/m or xmm ← xmm/m64
    let lo: number, hi = 0;
    if (i.b >= 0 && i.imm2 === 1) { lo = c.xmm[i.b * 4]!; hi = c.xmm[i.b * 4 + 1]!; } // source is an xmm register
    else if (i.b >= 0) { lo = getReg(c, i.b, w); hi = w === 64 ? c.outHi : 0; }
    else { ea(c, i); lo = readMem(c, w); hi = w === 64 ? c.outHi : 0; }
    const d = i.a * 4;
    c.xmm[d] = lo; c.xmm[d + 1] = w === 64 ? hi : 0; c.xmm[d + 2] = 0; c.xmm[d + 3] = 0;
    return;
  }
  // r/m ← xmm
  const s = i.b * 4;
  const lo = c.xmm[s]!, hi = c.xmm[s + 1]!;
  if (i.a >= 0 && i.imm2 === 1) { const d = i.a * 4; c.xmm[d] = lo; c.xmm[d + 1] = hi; c.xmm[d + 2] = 0; c.xmm[d + 3] = 0; return; }
  if (i.a >= 0) { setReg(c, i.a, w, lo, hi); return; }
  ea(c, i); writeMem(c, w, lo, hi);
}
