// The write record of the instruction the CPU is executing now: virtual
// time, RIP (linear: CS base added outside 64-bit mode) and the
// instruction's bytes. Both machines attribute CPU writes with it.
import type { Cpu } from '../../emulator/index.ts';
import type { WriteRecord } from './provenance.ts';

export function cpuWriteRecord(c: Cpu): WriteRecord {
  const i = c.cur;
  if (!i) return { kind: 'cpu', icount: c.preciseIcount(), rip: c.getRip() };
  const rip = (BigInt(i.ripHi >>> 0) << 32n) | BigInt(i.ripLo >>> 0);
  return { kind: 'cpu', icount: c.preciseIcount(), rip: c.codeBits === 64 ? rip : rip + BigInt(c.segBaseLo[1]! >>> 0), bytes: i.bytes };
}
