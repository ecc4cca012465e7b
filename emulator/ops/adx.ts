// adcx / adox (ADX): add with carry through CF only (adcx) or OF only
// (adox), leaving every other flag alone, so two carry chains can
// interleave. 32-bit results zero-extend.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { CF, OF, arithFlags, setArithFlags } from '../flags.ts';
import { readB, setReg } from './operands.ts';

/** adcx (op 0, carry in CF) / adox (op 1, carry in OF): a = a + b + carry. */
export function adx(c: Cpu, i: Insn): void {
  const size = i.size, r = i.a;
  const bit = i.op === 0 ? CF : OF;
  const flags = arithFlags(c);
  const bl = readB(c, i, size), bh = size === 64 ? c.outHi : 0;
  const cin = (flags & bit) !== 0 ? 1 : 0;
  const lo = (c.lo[r]! >>> 0) + (bl >>> 0) + cin;
  let carry = lo > 0xffffffff ? 1 : 0;
  let hi = 0;
  if (size === 64) {
    const h = (c.hi[r]! >>> 0) + (bh >>> 0) + carry;
    carry = h > 0xffffffff ? 1 : 0;
    hi = h | 0;
  }
  setReg(c, r, size, lo | 0, hi);
  setArithFlags(c, (flags & ~bit) | (carry ? bit : 0));
}
