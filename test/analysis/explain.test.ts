// Counterfactual explanation: a crash whose cause is a corrupted length,
// which a data-flow chain cannot follow (the length decides how far a copy
// goes; the crash is at a call through a pointer the copy overwrote). The
// run is replayed without the "hypervisor's" writes; delta debugging keeps
// the one that matters; the first instruction whose outcome differs is the
// load of the length.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { MultibootRun } from '../../src/run/multibootRun.ts';
import { explainFailure, formatExplanation, type CounterfactualBoot } from '../../src/analysis/explain.ts';
import type { XenWriteEvent } from '../../src/xen/attach.ts';
import { build, buildDir } from '../system/firmware.ts';

const run = promisify(execFile);

async function symbols(elf: string): Promise<Record<string, number>> {
  const { stdout } = await run('nm', [elf]);
  const out: Record<string, number> = {};
  for (const l of stdout.split('\n')) { const m = /^([0-9a-f]+) \w (\S+)$/.exec(l); if (m) out[m[2]!] = parseInt(m[1]!, 16); }
  return out;
}

describe('explainFailure', () => {
  it('names the write that changed a length, and the instruction that read it, for a crash data flow cannot explain', async () => {
    const elf = await build('lencopy', buildDir());
    const bytes = new Uint8Array(readFileSync(elf));
    const sym = await symbols(elf);
    // Three "hypervisor" writes on the virtual clock: two harmless, one that makes the length 40.
    const plan = [
      { icount: 3_000, addr: sym.scratch!, field: 'scratch[0]', value: 0x11 },
      { icount: 5_000, addr: sym.len!, field: 'len', value: 40 },
      { icount: 7_000, addr: sym.scratch! + 4, field: 'scratch[1]', value: 0x22 },
    ];
    const make: CounterfactualBoot = (suppress) => {
      const r = new MultibootRun({ elf: bytes, file: elf });
      const m = (r.machine as unknown as { m: { scheduler: { at(t: number, f: () => void): void } } }).m;
      const writes: XenWriteEvent[] = [];
      for (const p of plan) {
        m.scheduler.at(p.icount, () => {
          const w = { icount: p.icount, addr: p.addr, field: p.field };
          const after = Uint8Array.of(p.value, 0, 0, 0);
          const before = r.machine.ram.read(p.addr, 4);
          if (suppress?.(w)) return;
          r.machine.ram.writeBy(p.addr, after, { kind: 'hypervisor', icount: p.icount, what: p.field });
          writes.push({ ...w, event: 'vcpu_time_update', before, after, guestVisible: true });
        });
      }
      return { run: r, writes: () => writes };
    };
    const e = explainFailure(make)!;
    expect(e).not.toBeNull();
    expect(e.failure.outcome).toBe('crashed');
    expect(e.withoutXen.outcome).toBe('exited');
    expect(e.xenCaused).toBe(true);
    expect(e.minimal.map((w) => w.field)).toEqual(['len']);
    const d = e.divergence!;
    expect(d.kind).toBe('value');
    expect(d.instruction).toMatch(/^mov .*,%ecx$/);
    expect(d.reads).toEqual([{ addr: sym.len, failing: '28000000', counterfactual: '10000000' }]);
    expect(d.registers.find((x) => x.name === 'rcx')).toMatchObject({ failing: 40n, counterfactual: 16n });
    const text = formatExplanation(e);
    expect(text).toContain('minimal cause: 1 hypervisor write(s)');
    expect(text).toMatch(/first difference: instruction [\d,]+, rip 0x[0-9a-f]+ <[^>]*>: mov/);
  });
});
