// The hypervisor model on fake memory and a fake clock: initial content, the
// version protocol, the event-delivery order, wallclock, determinism.
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, SI, TI, VI } from '../../src/xen/abi.ts';
import { XenHypervisor, type HypervisorConfig } from '../../src/xen/hypervisor.ts';
import { DEFAULT_CONTENT, softReset, type StaleState } from '../../src/xen/staleState.ts';
import { scaleDelta, systemTimeAt, tscAt, tscScale, type ClockModel } from '../../src/xen/xenTime.ts';
import { FakeClock, FakeMemory } from './fakes.ts';

const SI_GPA = 0x1a00000;
const CLOCK: ClockModel = { instructionsPerSecond: 1e9, tscPerInstruction: 3, tscAtStart: 900e9, systemTimeAtStart: 300e9 };

function state(over: Partial<StaleState> = {}): StaleState {
  return {
    vcpus: 2,
    sharedInfo: { gpa: SI_GPA, inRam: true, label: 'test' },
    vcpuInfo: [],
    ports: [
      { port: 3, vcpu: 0, binding: { kind: 'virq', virq: 0 }, masked: false, pending: false },
      { port: 70, vcpu: 1, binding: { kind: 'interdomain', peer: 'xenstore' }, masked: false, pending: false },
      { port: 5, vcpu: 0, binding: { kind: 'ipi', name: 'resched' }, masked: true, pending: false },
    ],
    timers: [],
    content: { ...DEFAULT_CONTENT },
    ...over,
  };
}

function config(over: Partial<HypervisorConfig> = {}): HypervisorConfig {
  return { clock: CLOCK, seed: 7, timeUpdates: [], wallclock: null, sends: [], ...over };
}

function setup(s = state(), cfg = config()) {
  const mem = new FakeMemory(0xaa);
  const clock = new FakeClock();
  const xen = new XenHypervisor(mem, clock, s, cfg);
  xen.install();
  return { mem, clock, xen };
}

const hvWrites = (mem: FakeMemory) => mem.log.filter((w) => w.writer.kind === 'hypervisor' && w.writer.event !== 'initial_state');
const fieldOf = (w: { writer: { kind: string } }) => (w.writer as unknown as { field: string }).field;

describe('install', () => {
  it('declares the shared_info frame and writes Xen\'s page over the guest frame', () => {
    const { mem } = setup();
    const f = mem.frames.get(SI_GPA / PAGE_SIZE)!;
    expect(f.role).toBe('shared_info');
    expect(f.inRam).toBe(true);
    expect(mem.log[0]!.addr).toBe(SI_GPA);
    expect(mem.log[0]!.bytes.length).toBe(PAGE_SIZE);
    expect(mem.log[0]!.writer).toMatchObject({ kind: 'hypervisor', event: 'initial_state' });
    // Not whatever RAM held (0xaa): Xen's page, with the first kernel's state.
    expect(mem.readPhys(SI_GPA + 0xc40, 0x3c0).every((b) => b === 0)).toBe(true);
    expect(mem.u32(SI_GPA + SI.vcpuInfo(0) + VI.time + TI.version)).toBe(600);
    expect(mem.u64(SI_GPA + SI.vcpuInfo(0) + VI.time + TI.systemTime)).toBe(300_000_000_000n);
    expect(mem.u32(SI_GPA + SI.wcVersion)).toBe(2);
    expect(mem.u32(SI_GPA + SI.wcSec)).toBe(DEFAULT_CONTENT.wcSec);
    // Masks: all set except the ports Linux unmasked (3 and 70); 5 stays masked.
    const mask0 = mem.u64(SI_GPA + SI.evtchnMask);
    expect(mask0 & (1n << 3n)).toBe(0n);
    expect(mask0 & (1n << 5n)).not.toBe(0n);
    expect(mem.u64(SI_GPA + SI.evtchnMask + 8) & (1n << 6n)).toBe(0n);
    expect(mem.u64(SI_GPA + SI.evtchnMask + 63 * 8)).toBe(0xffffffffffffffffn);
  });

  it('sets pending state from ports left pending', () => {
    const s = state();
    s.ports[0]!.pending = true; // port 3 on vcpu 0, unmasked
    const { mem } = setup(s);
    expect(mem.u64(SI_GPA + SI.evtchnPending)).toBe(1n << 3n);
    expect(mem.readPhys(SI_GPA + SI.vcpuInfo(0) + VI.upcallPending, 1)[0]).toBe(1);
    expect(mem.u64(SI_GPA + SI.vcpuInfo(0) + VI.pendingSel)).toBe(1n);
  });

  it('writes a registered vcpu_info in RAM and freezes its shared_info slot', () => {
    const s = state({ vcpuInfo: [{ vcpu: 0, gpa: 0x18d4280, label: 'per-cpu' }] });
    const { mem, clock, xen } = setup(s, config({ timeUpdates: [{ vcpu: 0, every: { period: 1000, phase: 100, jitter: 0 }, spacing: 0, reason: 't' }] }));
    expect(mem.frames.get(0x18d4)).toMatchObject({ role: 'vcpu_info', ranges: [{ offset: 0x280, length: 64, vcpu: 0 }] });
    const slotBefore = mem.readPhys(SI_GPA, 64);
    clock.runUntil(2500);
    const w = hvWrites(mem);
    expect(w.length).toBeGreaterThan(0);
    expect(w.every((x) => x.addr >= 0x18d4280 && x.addr < 0x18d42c0)).toBe(true);
    expect(fieldOf(w[0]!)).toBe('registered_vcpu_info[0].time.version');
    expect(mem.readPhys(SI_GPA, 64)).toEqual(slotBefore);
    expect(xen.describe(0x18d4280 + 0x30)).toBe('registered_vcpu_info[0].time.system_time');
    expect(xen.describe(SI_GPA + 0x804)).toBe('shared_info.evtchn_pending[0]+4');
    expect(xen.describe(0x100000)).toBeUndefined();
  });

  it('a soft reset leaves nothing guest-visible', () => {
    const s = softReset(state({ vcpuInfo: [{ vcpu: 0, gpa: 0x18d4280, label: 'x' }] }));
    const { mem, clock, xen } = setup(s, config({ timeUpdates: [{ vcpu: 0, every: { period: 100, phase: 0, jitter: 0 }, spacing: 0, reason: 't' }] }));
    clock.runUntil(1000);
    expect(xen.sendEvent(3)).toBe('unbound');
    expect(mem.log).toEqual([]);
    expect(mem.frames.size).toBe(0);
  });
});

describe('vcpu time updates: the version protocol', () => {
  it('each update makes the version odd, writes the fields, then makes it even, as separate attributed writes', () => {
    const { mem, clock } = setup(state(), config({ timeUpdates: [{ vcpu: 1, every: { period: 10_000, phase: 5_000, jitter: 0 }, spacing: 0, reason: 't' }] }));
    clock.runUntil(26_000);
    const w = hvWrites(mem);
    const base = SI_GPA + SI.vcpuInfo(1) + VI.time;
    const versions = w.filter((x) => x.addr === base + TI.version).map((x) => (x.bytes[0]! | (x.bytes[1]! << 8)));
    expect(versions).toEqual([601, 602, 603, 604, 605, 606]);
    // Per update: version (odd) first, then the fields, then version (even).
    const fields = w.map(fieldOf);
    expect(fields.slice(0, 4)).toEqual([
      'vcpu_info[1].time.version', 'vcpu_info[1].time.tsc_timestamp', 'vcpu_info[1].time.system_time', 'vcpu_info[1].time.version',
    ]);
    expect(w[0]!.writer).toMatchObject({ event: 'vcpu_time_update', at: 5000, detail: expect.stringContaining('odd') });
    // Values derived from the virtual clock.
    expect(mem.u64(base + TI.systemTime)).toBe(systemTimeAt(CLOCK, 25_000));
    expect(mem.u64(base + TI.tscTimestamp)).toBe(tscAt(CLOCK, 25_000));
    const scale = tscScale(3e9);
    expect(mem.u32(base + TI.tscToSystemMul)).toBe(scale.mul);
    expect(mem.readPhys(base + TI.tscShift, 1)[0]).toBe(scale.shift & 0xff);
  });

  it('a guest computing time from RDTSC with the record gets the virtual clock', () => {
    const { mem, clock } = setup(state(), config({ timeUpdates: [{ vcpu: 0, every: { period: 1e6, phase: 1000, jitter: 0 }, spacing: 0, reason: 't' }] }));
    clock.runUntil(2000);
    const base = SI_GPA + VI.time;
    const at = 777_777;
    const tsc = tscAt(CLOCK, at);
    const ns = mem.u64(base + TI.systemTime) + scaleDelta(tsc - mem.u64(base + TI.tscTimestamp), { mul: mem.u32(base + TI.tscToSystemMul), shift: -1 });
    expect(Number(ns - systemTimeAt(CLOCK, at))).toBeLessThanOrEqual(1);
    expect(Number(ns - systemTimeAt(CLOCK, at))).toBeGreaterThanOrEqual(-1);
  });

  it('a reader sampling between the steps sees an odd version (spacing > 0)', () => {
    const { mem, clock } = setup(state(), config({ timeUpdates: [{ vcpu: 0, every: { period: 100_000, phase: 1_000, jitter: 0 }, spacing: 10, reason: 't' }] }));
    const ver = SI_GPA + VI.time + TI.version;
    clock.runUntil(1_000);
    expect(mem.u32(ver)).toBe(601); // odd: fields not yet written
    expect(mem.u64(SI_GPA + VI.time + TI.systemTime)).toBe(300_000_000_000n);
    clock.runUntil(1_015);
    expect(mem.u32(ver)).toBe(601); // fields written at 1010, still odd
    expect(mem.u64(SI_GPA + VI.time + TI.systemTime)).toBe(systemTimeAt(CLOCK, 1_000));
    clock.runUntil(1_020);
    expect(mem.u32(ver)).toBe(602);
  });

  it('a reader sampling after every write sees odd mid-update even with spacing 0', () => {
    const { mem, clock } = setup(state(), config({ timeUpdates: [{ vcpu: 0, every: { period: 100, phase: 50, jitter: 0, count: 3 }, spacing: 0, reason: 't' }] }));
    const seen: number[] = [];
    mem.onWrite = () => seen.push(mem.u32(SI_GPA + VI.time + TI.version));
    clock.runUntil(1000);
    expect(seen).toEqual([601, 601, 601, 602, 603, 603, 603, 604, 605, 605, 605, 606]);
  });

  it('Xen reads the version from the page: a guest overwrite is continued, and overwritten fields are restored', () => {
    const { mem, clock } = setup(state(), config({ timeUpdates: [{ vcpu: 0, every: { period: 1000, phase: 1000, jitter: 0 }, spacing: 0, reason: 't' }] }));
    const base = SI_GPA + VI.time;
    mem.guestWrite(base, [0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90], 500); // version + pad0 clobbered
    clock.runUntil(1000);
    expect(mem.u32(base + TI.version)).toBe(0x90909092);
    expect(mem.u32(base + TI.pad0)).toBe(0); // the struct copy zeroes the pad
  });

  it('skips the update when the record is unchanged (no writes at all)', () => {
    const { mem, xen } = setup(); // clock at 0: the record equals the initial one
    xen.updateVcpuTime(0);
    expect(hvWrites(mem)).toEqual([]);
    xen.updateVcpuTime(0, 0, true); // forced: only the version changes
    expect(hvWrites(mem).map(fieldOf)).toEqual(['vcpu_info[0].time.version', 'vcpu_info[0].time.version']);
  });
});

describe('event delivery (2-level ABI)', () => {
  it('sets evtchn_pending, then the selector bit in the vcpu_info, then evtchn_upcall_pending', () => {
    const ups: number[] = [];
    const mem = new FakeMemory();
    const clock = new FakeClock();
    const xen = new XenHypervisor(mem, clock, state(), config(), { onUpcall: (v) => ups.push(v) });
    xen.install();
    expect(xen.sendEvent(70)).toBe('upcall');
    const w = hvWrites(mem);
    expect(w.map(fieldOf)).toEqual(['evtchn_pending[1]', 'vcpu_info[1].evtchn_pending_sel', 'vcpu_info[1].evtchn_upcall_pending']);
    expect(w.map((x) => x.addr)).toEqual([SI_GPA + SI.evtchnPending + 8 + 0, SI_GPA + SI.vcpuInfo(1) + VI.pendingSel, SI_GPA + SI.vcpuInfo(1)]);
    expect(mem.u64(SI_GPA + SI.evtchnPending + 8)).toBe(1n << 6n);
    expect(mem.u64(SI_GPA + SI.vcpuInfo(1) + VI.pendingSel)).toBe(2n);
    expect(ups).toEqual([1]);
    // Again: already pending, nothing written.
    expect(xen.sendEvent(70)).toBe('already-pending');
    expect(hvWrites(mem).length).toBe(3);
  });

  it('stops after the pending bit when the port is masked, and at the selector when it is already set', () => {
    const { mem, xen } = setup();
    expect(xen.sendEvent(5)).toBe('masked');
    expect(hvWrites(mem).map(fieldOf)).toEqual(['evtchn_pending[0]']);
    expect(xen.sendEvent(3)).toBe('upcall');
    // The guest clears the upcall flag and the pending bit but not the selector: stop at the selector.
    mem.guestWrite(SI_GPA + SI.vcpuInfo(0) + VI.upcallPending, [0], 20);
    mem.guestWrite(SI_GPA + SI.evtchnPending, [0], 21);
    expect(xen.sendEvent(3)).toBe('sel-already-set');
    expect(mem.readPhys(SI_GPA + SI.vcpuInfo(0) + VI.upcallPending, 1)[0]).toBe(0);
    // Selector cleared, upcall flag left set: stop at the upcall flag.
    mem.guestWrite(SI_GPA + SI.vcpuInfo(0) + VI.pendingSel, [0], 30);
    mem.guestWrite(SI_GPA + SI.vcpuInfo(0) + VI.upcallPending, [1], 31);
    mem.guestWrite(SI_GPA + SI.evtchnPending, [0], 32);
    expect(xen.sendEvent(3)).toBe('upcall-already-pending');
  });

  it('a guest that unmasked a port in the page changes what Xen does', () => {
    const { mem, xen } = setup();
    mem.guestWrite(SI_GPA + SI.evtchnMask, [0, 0, 0, 0, 0, 0, 0, 0], 10);
    expect(xen.sendEvent(5)).toBe('upcall');
    expect(xen.sendEvent(3)).toBe('sel-already-set');
    expect(xen.sendEvent(999)).toBe('unbound');
  });

  it('a stale timer fires VIRQ_TIMER on its vcpu\'s bound port', () => {
    const s = state({ timers: [{ vcpu: 0, kind: 'singleshot', atNs: 4_000 }] });
    const { mem, clock } = setup(s);
    clock.runUntil(10_000);
    const w = hvWrites(mem);
    expect(w.map(fieldOf)).toEqual(['evtchn_pending[0]', 'vcpu_info[0].evtchn_pending_sel', 'vcpu_info[0].evtchn_upcall_pending']);
    expect(w[0]!.writer).toMatchObject({ at: 4000, detail: 'bit 3 (port 3) set' });
  });
});

describe('wallclock', () => {
  it('wc_version odd, wc_sec, wc_nsec, wc_version even', () => {
    const s = state();
    s.content.wcSecHi = true;
    const { mem, clock } = setup(s, config({ wallclock: { every: { period: 1000, phase: 500, jitter: 0, count: 1 }, spacing: 0, driftNs: 300 } }));
    clock.runUntil(5000);
    const w = hvWrites(mem);
    expect(w.map(fieldOf)[0]).toBe('wc_version');
    expect(w.map(fieldOf).at(-1)).toBe('wc_version');
    expect(mem.u32(SI_GPA + SI.wcVersion)).toBe(4);
    expect(Math.abs(mem.u32(SI_GPA + SI.wcNsec) - 0) <= 300 || mem.u32(SI_GPA + SI.wcNsec) >= 999_999_700).toBe(true);
  });
});

describe('determinism', () => {
  const sched = (seed: number): HypervisorConfig => config({
    seed,
    timeUpdates: [
      { vcpu: 0, every: { period: 10_000, phase: 3_000, jitter: 2_000 }, spacing: 3, reason: 'a' },
      { vcpu: 1, every: { period: 7_000, phase: 1_000, jitter: 1_500 }, spacing: 0, reason: 'b' },
    ],
    wallclock: { every: { period: 50_000, phase: 20_000, jitter: 10_000 }, spacing: 0, driftNs: 1000 },
    sends: [{ port: 70, every: { period: 9_000, phase: 4_000, jitter: 3_000 } }],
  });
  const run = (seed: number) => {
    const s = state({ timers: [{ vcpu: 0, kind: 'periodic', periodNs: 20_000, firstNs: 5_000 }] });
    const { mem, clock } = setup(s, sched(seed));
    clock.runUntil(200_000);
    return JSON.stringify(mem.log);
  };

  it('the same seed gives the same write log', () => {
    expect(run(42)).toBe(run(42));
  });

  it('a different seed gives different jitter', () => {
    const a = JSON.parse(run(42)) as { writer: { at: number } }[];
    const b = JSON.parse(run(43)) as { writer: { at: number } }[];
    expect(a.map((w) => w.writer.at)).not.toEqual(b.map((w) => w.writer.at));
  });

  it('jitter stays within its bounds and occurrences stay ordered', () => {
    const { mem, clock } = setup(state(), config({ seed: 9, timeUpdates: [{ vcpu: 0, every: { period: 1000, phase: 1000, jitter: 300 }, spacing: 0, reason: 'j' }] }));
    clock.runUntil(100_500);
    const starts = hvWrites(mem).filter((w) => (w.writer as { detail?: string }).detail?.includes('odd')).map((w) => w.writer.at);
    expect(starts.length).toBe(100);
    starts.forEach((t, k) => {
      expect(Math.abs(t - (1000 + k * 1000))).toBeLessThanOrEqual(300);
      if (k) expect(t).toBeGreaterThan(starts[k - 1]!);
    });
  });
});
