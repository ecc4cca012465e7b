// Reading guest code the way the CPU fetches it: RIP (CS-relative outside
// 64-bit mode) through the guest's page tables. For reports, not for the
// run: a probe that misses may leave CR2 and accessed bits touched.
import type { Cpu } from '../../emulator/index.ts';

/** Physical address of the code byte at RIP+k, or null where it is not mapped. */
export function codePhys(c: Cpu, rip: bigint, k = 0): number | null {
  const csBase = c.codeBits === 64 ? 0n : BigInt(c.segBaseLo[1]! >>> 0);
  const lin = BigInt.asUintN(64, rip + BigInt(k) + csBase);
  try {
    return c.translateExec(Number(lin & 0xffffffffn) | 0, Number(lin >> 32n) | 0);
  } catch {
    return null;
  }
}

/** The code byte at RIP+k, or null where it is not mapped. */
export function codeByte(c: Cpu, rip: bigint, k: number): number | null {
  const p = codePhys(c, rip, k);
  return p === null ? null : c.physReadByte(p);
}
