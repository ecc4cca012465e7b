// Going back in time: checkpoints restore RAM, the CPU, devices, the event
// schedule and the Xen shim in place, so re-executing from one gives the
// same machine, instruction for instruction, as a run that never went back.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { captureState } from '../../emulator/index.ts';
import { loadScenario } from '../../src/xen/scenario.ts';
import { resolveScenario } from '../../src/xen/scenarioResolve.ts';
import { DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import { startScenario, type ScenarioBoot } from '../../src/run/scenarioRun.ts';
import { captureState as captureObjects, restoreState } from '../../src/run/stateImage.ts';

const scenario = resolveScenario(loadScenario(DEFAULT_SCENARIO_PATH));

/** Everything a run could get wrong after a restore, as one string. */
function digest(b: ScenarioBoot): string {
  const m = b.run.machine;
  const s = captureState(m.cpu);
  const t = b.xen().attachment.timeline;
  return JSON.stringify({
    ram: createHash('sha1').update(m.ram.ram).digest('hex'), state: s, serial: m.serialText,
    xen: t.hypervisorWrites.map((w) => [w.icount, w.addr, w.field, Array.from(w.after)]),
    guest: t.guestWrites, phase: b.run.context, outcome: b.run.outcome, pending: m.scheduler.pending,
  }, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v));
}

describe('checkpoints and time travel', () => {
  it('restoring a checkpoint and re-executing gives the machine a run that never went back has', () => {
    const T1 = 12_000_000, T2 = 31_000_000;
    const a = startScenario(scenario, { until: null });
    a.run.advance(T1, false);
    const a1 = digest(a);
    a.run.advance(T2, false);
    const a2 = digest(a);
    expect(a.xen().attachment.timeline.hypervisorWrites.length).toBeGreaterThan(1); // Xen wrote in between: its schedule must come back too

    const b = startScenario(scenario, { until: null });
    b.run.enableHistory(5_000_000);
    b.run.advance(T2, false);
    expect(digest(b)).toBe(a2);
    expect(b.run.historyStats!.count).toBe(Math.floor(T2 / 5_000_000) + 1);
    expect(b.run.goto(T1)).toBe(true);
    expect(b.run.icount).toBe(T1);
    expect(digest(b)).toBe(a1);
    b.run.advance(T2, false);
    expect(digest(b)).toBe(a2);
    // Back to the very beginning and forward again.
    expect(b.run.goto(0)).toBe(true);
    b.run.advance(T1, false);
    expect(digest(b)).toBe(a1);
  });

  it('captures objects in place: fields, arrays, maps, sets and typed arrays come back, added fields go, identity stays', () => {
    const inner = { n: 1 };
    const o: Record<string, unknown> = { a: 1, list: [inner, 2], map: new Map([[1, inner]]), set: new Set([3]), bytes: new Uint8Array([1, 2]), inner };
    const img = captureObjects([o], { skip: new Set() });
    o.a = 2; (o.list as unknown[]).push(9); inner.n = 5; (o.map as Map<number, unknown>).set(2, 'x'); (o.set as Set<number>).add(4);
    (o.bytes as Uint8Array)[0] = 7; o.extra = true;
    restoreState(img);
    expect(o).toEqual({ a: 1, list: [inner, 2], map: new Map([[1, inner]]), set: new Set([3]), bytes: new Uint8Array([1, 2]), inner });
    expect(inner.n).toBe(1);
    expect((o.list as unknown[])[0]).toBe(inner);
    expect('extra' in o).toBe(false);
  });

  it('a hypervisor write at count T has not happened at T and has at T+1; a reverse stop on it shows memory before it', () => {
    const b = startScenario(scenario, { until: null });
    b.run.enableHistory(5_000_000);
    b.run.advance(30_000_000, false);
    const w = b.xen().attachment.timeline.hypervisorWrites.find((x) => x.event !== 'initial_state' && x.guestVisible && x.icount > 2_000_000 && x.before.some((v, k) => v !== x.after[k]))!;
    expect(w).toBeDefined();
    const ram = b.run.machine.ram;
    b.run.goto(w.icount);
    expect(Array.from(ram.read(w.addr, w.after.length))).toEqual(Array.from(w.before));
    b.run.goto(w.icount + 1);
    expect(Array.from(ram.read(w.addr, w.after.length))).toEqual(Array.from(w.after));
    b.run.addWatch({ kind: 'write', phys: w.addr, len: w.after.length, addr: BigInt(w.addr) });
    const hit = b.run.reverseToLastHit();
    expect(hit?.kind).toBe('watch');
    expect(b.run.icount).toBe(w.icount);
    expect(hit?.kind === 'watch' && hit.hit.by.kind).toBe('hypervisor');
    expect(Array.from(ram.read(w.addr, w.after.length))).toEqual(Array.from(w.before));
  });
});
