// System instructions. Registered into the dispatch table at load time.
import type { Cpu } from '../cpu.ts';
import type { Insn } from '../insn.ts';
import { extendTable, FORM_ENDS_BLOCK, type Entry } from '../table.ts';
import { gp } from '../fault.ts';

/** hlt: stop until an interrupt (the run loop reports Stop.Halt). */
export function hlt(c: Cpu, _i: Insn): void {
  if (c.cpl !== 0) throw gp(0, 'hlt at CPL > 0');
  c.halted = true;
  c.blockExit = true;
}

const SYSTEM: Record<string, Omit<Entry, 'form'> & { form?: number }> = {
  Hlt: { handler: hlt, op: 0, size: 0, form: FORM_ENDS_BLOCK },
};

extendTable((name) => {
  const e = SYSTEM[name];
  return e ? { handler: e.handler, op: e.op, size: e.size, form: e.form ?? 0 } : undefined;
});
