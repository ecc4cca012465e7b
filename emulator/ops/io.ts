// Port I/O: in/out with immediate or DX port, ins/outs with rep. Access is
// checked against IOPL and, when CPL > IOPL, the TSS I/O permission bitmap
// (SDM Vol. 1 19.5). The machine's PortBus does the rest.
import type { Cpu } from '../cpu.ts';
import { MEM_READ, MEM_WRITE, type Insn } from '../insn.ts';
import { Seg } from '../regs.ts';
import { gp } from '../fault.ts';
import { DF } from '../flags.ts';
import { setReg } from './operands.ts';
import { indexAddress, advance, countZero, decCount, another, repDone, repStart, REP_NONE } from './string.ts';
import { sysRead, addLinear } from '../sysmem.ts';

/** #GP(0) unless the current privilege may access `bytes` ports from `port`. */
function checkIo(c: Cpu, port: number, bytes: number): void {
  if (!(c.cr0 & 1)) return;
  const iopl = (c.flagsSys >> 12) & 3;
  if (c.cpl <= iopl && !(c.flagsSys & 0x20000)) return;
  // The I/O permission bitmap of a 32/64-bit TSS.
  const limit = c.trLimit >>> 0;
  if ((c.trSel & 0xfffc) === 0 || !(c.trAttr & 8) || limit < 0x67) throw gp(0, `port 0x${port.toString(16)} not accessible at CPL ${c.cpl}`);
  const lma = (c.efer & 0x400) !== 0;
  const [bLo, bHi] = addLinear(c.trBaseLo, lma ? c.trBaseHi : 0, 0x66);
  const bitmap = sysRead(c, bLo, bHi, 2);
  const off = bitmap + (port >>> 3);
  if (off + 1 > limit) throw gp(0, `port 0x${port.toString(16)} beyond the I/O bitmap`);
  const [a, ah] = addLinear(c.trBaseLo, lma ? c.trBaseHi : 0, off);
  const bits = sysRead(c, a, ah, 2);
  const mask = ((1 << bytes) - 1) << (port & 7);
  if (bits & mask) throw gp(0, `port 0x${port.toString(16)} denied by the I/O bitmap`);
}

function portOf(c: Cpu, i: Insn): number {
  return i.op === 1 ? c.lo[2]! & 0xffff : i.immLo & 0xff;
}

/** in al/ax/eax, imm8|dx (op 1: port in DX). */
export function inOp(c: Cpu, i: Insn): void {
  const port = portOf(c, i), bytes = i.size >> 3;
  checkIo(c, port, bytes);
  const v = c.ports.portIn(port, bytes);
  setReg(c, 0, i.size, v, 0);
}

/** out imm8|dx, al/ax/eax. A device may request a stop (exit port): end the block then. */
export function outOp(c: Cpu, i: Insn): void {
  const port = portOf(c, i), bytes = i.size >> 3;
  checkIo(c, port, bytes);
  const v = c.lo[0]!;
  c.ports.portOut(port, bytes, bytes === 1 ? v & 0xff : bytes === 2 ? v & 0xffff : v >>> 0);
  if (c.stopRequested) c.blockExit = true;
}

/** ins: ES:[rdi] ← port dx. With rep, one unit of time per iteration, suspended between iterations at the run's limit (string.ts). */
export function ins(c: Cpu, i: Insn): void {
  const size = i.size, bytes = size >> 3, asize = i.asize, rep = i.op !== REP_NONE;
  const step = (c.flagsSys & DF) ? -bytes : bytes;
  const port = c.lo[2]! & 0xffff;
  checkIo(c, port, bytes);
  if (rep) repStart(c);
  for (let first = true; ; first = false) {
    if (rep) {
      if (countZero(c, asize)) break;
      if (!first && !another(c, i)) return;
    }
    indexAddress(c, 7, asize, c.codeBits === 64 ? -1 : Seg.ES, size, MEM_WRITE);
    const aLo = c.eaLo, aHi = c.eaHi;
    // Check the destination before reading the port (a read may have side effects).
    if (bytes === 1) c.readRmw8(aLo, aHi); else if (bytes === 2) c.readRmw16(aLo, aHi); else c.readRmw32(aLo, aHi);
    const v = c.ports.portIn(port, bytes);
    if (bytes === 1) c.write8(aLo, aHi, v); else if (bytes === 2) c.write16(aLo, aHi, v); else c.write32(aLo, aHi, v);
    advance(c, 7, asize, step);
    if (!rep) return;
    decCount(c, asize);
  }
  repDone(c);
}

/** outs: port dx ← seg:[rsi]. */
export function outs(c: Cpu, i: Insn): void {
  const size = i.size, bytes = size >> 3, asize = i.asize, rep = i.op !== REP_NONE;
  const step = (c.flagsSys & DF) ? -bytes : bytes;
  const port = c.lo[2]! & 0xffff;
  checkIo(c, port, bytes);
  c.blockExit = true; // a device may have requested a stop
  if (rep) repStart(c);
  for (let first = true; ; first = false) {
    if (rep) {
      if (countZero(c, asize)) return;
      if (!first && !another(c, i)) return;
    }
    indexAddress(c, 6, asize, i.seg, size, MEM_READ);
    const v = bytes === 1 ? c.read8(c.eaLo, c.eaHi) : bytes === 2 ? c.read16(c.eaLo, c.eaHi) : c.read32(c.eaLo, c.eaHi) >>> 0;
    c.ports.portOut(port, bytes, v);
    advance(c, 6, asize, step);
    if (!rep) return;
    decCount(c, asize);
  }
}
