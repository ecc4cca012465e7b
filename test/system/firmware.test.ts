// Bare-metal programs under bootpath must print exactly what they print under
// QEMU TCG and exit the same way. Expected output is never hand-written —
// except where QEMU departs from the manuals (see architectural.test.ts).
import { describe, it, expect, beforeAll } from 'vitest';
import { build, buildDir, runQemu, runBootpath, hasQemu, type Result } from './firmware.ts';
import { describeOutcome } from '../../src/machine/machine.ts';

/** Programs and how they end: 'exit' through the exit port, or a triple fault (QEMU -no-reboot exits 0). */
const PROGRAMS: { name: string; end: 'exit' | 'triple-fault' }[] = [
  { name: 'hello', end: 'exit' },
  { name: 'exceptions64', end: 'exit' },
  { name: 'paging64', end: 'exit' },
  { name: 'crgp', end: 'exit' },
  { name: 'df', end: 'exit' },
  { name: 'dfpf', end: 'exit' },
  { name: 'triple', end: 'triple-fault' },
  { name: 'modes', end: 'exit' },
  { name: 'pm32', end: 'exit' },
  { name: 'debug64', end: 'exit' },
];

const needQemu = !process.env.BOOTPATH_SKIP_QEMU;

describe('firmware programs: bootpath vs QEMU TCG', () => {
  const elfs = new Map<string, string>();
  const qemu = new Map<string, Result>();
  beforeAll(async () => {
    if (needQemu && !hasQemu()) throw new Error('qemu-system-x86_64 is not installed (apt-get install qemu-system-x86), or set BOOTPATH_SKIP_QEMU=1');
    const dir = buildDir();
    await Promise.all(PROGRAMS.map(async (p) => { elfs.set(p.name, await build(p.name, dir)); }));
    if (needQemu) await Promise.all(PROGRAMS.map(async (p) => { qemu.set(p.name, await runQemu(elfs.get(p.name)!)); }));
  });

  for (const p of PROGRAMS) {
    it(p.name, () => {
      const b = runBootpath(elfs.get(p.name)!);
      const why = b.outcome && b.outcome.kind !== 'exit' ? describeOutcome(b.outcome) : '';
      if (p.end === 'exit') expect(b.outcome?.kind, why).toBe('exit');
      else expect(b.outcome?.kind, why).toBe('triple-fault');
      if (!needQemu) return;
      const q = qemu.get(p.name)!;
      expect(q.timedOut, 'QEMU timed out').toBeFalsy();
      expect(b.serial).toBe(q.serial);
      if (p.end === 'exit') expect(b.status).toBe(q.status);
      else expect(q.status).toBe(0);
    });
  }
});
