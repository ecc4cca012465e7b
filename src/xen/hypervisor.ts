// The hypervisor's activity after kexec: on the virtual clock, Xen keeps
// servicing the state the first kernel left (staleState.ts) and writes into
// guest-visible memory:
//
//  - vcpu time updates (xen/arch/x86/time.c, __update_vcpu_system_time):
//    skipped when the record is unchanged; else version := (version+1)|1,
//    then a struct copy of the new record (version stays odd), then
//    version := version+1. Written to the vcpu's current vcpu_info: the
//    registered one if VCPUOP_register_vcpu_info was used (Xen then no
//    longer touches the shared_info slot), else shared_info.vcpu_info[n].
//  - event delivery, 2-level ABI (xen/common/event_2l.c,
//    evtchn_2l_set_pending; vcpu_mark_events_pending in
//    xen/arch/x86/domain.c): test-and-set evtchn_pending[port]; stop if it
//    was set. If evtchn_mask[port] is clear: test-and-set the selector bit
//    port/64 in the vcpu's evtchn_pending_sel; if that was clear,
//    test-and-set evtchn_upcall_pending; if that was clear, assert the
//    upcall (HVM: the callback interrupt).
//  - wallclock updates (update_domain_wallclock_time): wc_version odd,
//    wc_sec, wc_nsec (and wc_sec_hi on Xen 4.6+), wc_version even.
//
// Every read Xen makes goes to the page as it is now, so guest writes that
// landed in a Xen frame change what Xen does next (a masked port the
// decompressor unmasked, a version counter it overwrote).
// Writes that would not change any byte are not issued (they are invisible).

import {
  PAGE_SIZE, SI, TI, VI, VCPU_INFO, VCPU_TIME_INFO, XEN_LEGACY_MAX_VCPUS, XEN_ULONG_BYTES, EVTCHN_WORD_BITS,
  formatFieldAt, sharedInfoFieldAt, vcpuInfoFieldAt,
} from './abi.ts';
import { initialSharedInfoPage, initialVcpuInfo, timeRecord } from './initialContent.ts';
import type { VirtualClock, WriteSource, XenEventKind, XenFrame, XenGuestMemory } from './platform.ts';
import { Prng } from './prng.ts';
import { timerPort, type StaleState } from './staleState.ts';
import { nsToInstructions, type ClockModel } from './xenTime.ts';

/** A repeating event on the virtual clock, in instructions. */
export interface Periodic {
  /** Instructions between occurrences (> 0). */
  period: number;
  /** Instruction count of the first occurrence (before jitter). */
  phase: number;
  /** Each occurrence moves by a uniform draw in [-jitter, +jitter] (from the seed). */
  jitter: number;
  /** Stop after this many occurrences (default: unlimited). */
  count?: number;
}

export interface TimeUpdateSchedule {
  vcpu: number;
  every: Periodic;
  /** Instructions between the protocol's steps (odd version / fields / even version); 0 = all at once. */
  spacing: number;
  /** Why Xen updates (reports): 'calibration', 'schedule-in', ... */
  reason: string;
}

export interface WallclockSchedule {
  every: Periodic;
  spacing: number;
  /** Each update moves wc_nsec by a draw in [-driftNs, +driftNs] (NTP-like adjustments); 0 = same values. */
  driftNs: number;
}

/** Events sent on a bound port by someone else (xenstore, console, an IPI) on a schedule. */
export interface PortSchedule {
  port: number;
  every: Periodic;
}

export interface HypervisorConfig {
  clock: ClockModel;
  seed: number;
  timeUpdates: TimeUpdateSchedule[];
  wallclock: WallclockSchedule | null;
  sends: PortSchedule[];
}

export interface HypervisorWrite {
  addr: number;
  bytes: Uint8Array;
  source: WriteSource & { kind: 'hypervisor' };
}

export interface HypervisorOptions {
  /** Called when Xen would raise the event upcall on a vcpu (0 -> 1 of evtchn_upcall_pending). */
  onUpcall?: (vcpu: number, at: number) => void;
  /** Keep every write in `writes` (default true). */
  keepLog?: boolean;
}

/** Where one vcpu's vcpu_info is: a guest physical address, or Xen's private page. */
type VcpuInfoLoc = { gpa: number; name: string } | { priv: number; name: string };

export class XenHypervisor {
  /** Every write into guest-visible memory, in order. */
  readonly writes: HypervisorWrite[] = [];
  /** Xen's shared_info page when the guest has none mapped (after soft reset): invisible to the guest. */
  private readonly priv: Uint8Array | null;
  private installed = false;
  /** The periodic activities (their position in the schedule is state: it follows checkpoints). */
  private readonly recurrences: Recurrence[] = [];
  private readonly driftRng: Prng;

  constructor(
    private readonly mem: XenGuestMemory,
    private readonly clock: VirtualClock,
    readonly state: StaleState,
    readonly config: HypervisorConfig,
    private readonly opts: HypervisorOptions = {},
  ) {
    this.priv = state.sharedInfo ? null : initialSharedInfoPage(state, config.clock);
    this.driftRng = new Prng(config.seed, 'wallclock-drift');
  }

  /**
   * Declare the Xen frames to the machine, write their content at kexec
   * (see initialContent.ts) and start the schedules. Call it before the
   * loader writes the new kernel: relocate_kernel's copy went through the
   * same mapping.
   */
  install(): void {
    if (this.installed) throw new Error('XenHypervisor.install: already installed');
    this.installed = true;
    const s = this.state;
    const at = this.clock.now();
    if (s.sharedInfo) {
      const gfn = s.sharedInfo.gpa / PAGE_SIZE;
      this.mem.setXenFrame(gfn, { gfn, role: 'shared_info', inRam: s.sharedInfo.inRam, ranges: [{ offset: 0, length: PAGE_SIZE, vcpu: -1 }], label: s.sharedInfo.label });
      this.emit(s.sharedInfo.gpa, initialSharedInfoPage(s, this.config.clock), 'initial_state', 'shared_info (whole page)', at,
        `Xen's shared_info page at gfn 0x${gfn.toString(16)}, as the first kernel left it`);
    }
    const frames = new Map<number, XenFrame>();
    for (const r of s.vcpuInfo) {
      const gfn = Math.floor(r.gpa / PAGE_SIZE);
      const f = frames.get(gfn) ?? { gfn, role: 'vcpu_info' as const, inRam: true, ranges: [], label: r.label };
      f.ranges.push({ offset: r.gpa % PAGE_SIZE, length: VCPU_INFO.size, vcpu: r.vcpu });
      frames.set(gfn, f);
    }
    for (const f of frames.values()) this.mem.setXenFrame(f.gfn, f);
    for (const r of s.vcpuInfo) {
      this.emit(r.gpa, initialVcpuInfo(s, this.config.clock, r.vcpu, false), 'initial_state', `registered_vcpu_info[${r.vcpu}] (whole)`, at,
        `vcpu ${r.vcpu}'s vcpu_info registered by the first kernel`);
    }
    this.startSchedules();
  }

  // ---- the three activities --------------------------------------------

  /**
   * One vcpu time update, now. With spacing > 0 the three steps are spread
   * over the clock (a concurrent reader can see the odd version).
   */
  updateVcpuTime(vcpu: number, spacing = 0, force = false): void {
    const loc = this.vcpuInfoLoc(vcpu);
    if (!loc) return;
    const c = this.config.clock;
    const now = this.clock.now();
    const cur = this.readLoc(loc, VI.time, VCPU_TIME_INFO.size);
    const next = timeRecord(c, now, 0, this.state.content.timeFlags);
    if (!force && equalFrom(cur, next, TI.pad0)) return;
    const v0 = u32(cur, TI.version);
    const odd = ((v0 + 1) | 1) >>> 0;
    new DataView(next.buffer).setUint32(TI.version, odd, true);
    const ev: XenEventKind = 'vcpu_time_update';
    const step1 = () => this.writeLoc(loc, VI.time + TI.version, le32(odd), ev, `version ${odd} (odd: update in progress)`);
    const step2 = () => {
      for (const f of VCPU_TIME_INFO.fields) {
        const len = f.size * (f.count ?? 1);
        this.writeLoc(loc, VI.time + f.offset, next.subarray(f.offset, f.offset + len), ev);
      }
    };
    const step3 = () => {
      const v = u32(this.readLoc(loc, VI.time + TI.version, 4), 0);
      this.writeLoc(loc, VI.time + TI.version, le32((v + 1) >>> 0), ev, `version ${(v + 1) >>> 0} (even: update done)`);
    };
    this.runSteps([step1, step2, step3], spacing);
  }

  /** Xen sends an event on `port` (2-level ABI). Returns what happened, for tests and reports. */
  sendEvent(port: number): 'unbound' | 'already-pending' | 'masked' | 'no-vcpu-info' | 'sel-already-set' | 'upcall-already-pending' | 'upcall' {
    const p = this.state.ports.find((x) => x.port === port);
    if (!p) return 'unbound';
    const ev: XenEventKind = 'evtchn_send';
    const word = Math.floor(port / EVTCHN_WORD_BITS);
    const bitInWord = port % EVTCHN_WORD_BITS;
    const byteOff = word * XEN_ULONG_BYTES + (bitInWord >> 3);
    const m = 1 << (bitInWord & 7);
    const detail = `bit ${bitInWord} (port ${port})`;
    if (!this.testAndSetSi(SI.evtchnPending + byteOff, m, ev, `${detail} set`)) return 'already-pending';
    if (this.readSi(SI.evtchnMask + byteOff, 1)[0]! & m) return 'masked';
    const loc = this.vcpuInfoLoc(p.vcpu);
    if (!loc) return 'no-vcpu-info';
    const selOff = VI.pendingSel + (word >> 3);
    if (!this.testAndSetLoc(loc, selOff, 1 << (word & 7), ev, `bit ${word} (evtchn_pending word ${word}) set`)) return 'sel-already-set';
    if (!this.testAndSetLoc(loc, VI.upcallPending, 1, ev, 'set')) return 'upcall-already-pending';
    this.opts.onUpcall?.(p.vcpu, this.clock.now());
    return 'upcall';
  }

  /** One wallclock update, now. */
  updateWallclock(spacing = 0, nsecDelta = 0): void {
    const ct = this.state.content;
    const ev: XenEventKind = 'wallclock_update';
    let sec = ct.wcSec;
    let nsec = ct.wcNsec + nsecDelta;
    while (nsec < 0) { nsec += 1e9; sec--; }
    while (nsec >= 1e9) { nsec -= 1e9; sec++; }
    const v0 = u32(this.readSi(SI.wcVersion, 4), 0);
    const odd = ((v0 + 1) | 1) >>> 0;
    const step1 = () => this.writeSi(SI.wcVersion, le32(odd), ev, `wc_version ${odd} (odd: update in progress)`);
    const step2 = () => {
      this.writeSi(SI.wcSec, le32(sec >>> 0), ev);
      this.writeSi(SI.wcNsec, le32(nsec >>> 0), ev);
      if (ct.wcSecHi) this.writeSi(SI.wcSecHi, le32(Math.floor(sec / 2 ** 32) >>> 0), ev);
    };
    const step3 = () => {
      const v = u32(this.readSi(SI.wcVersion, 4), 0);
      this.writeSi(SI.wcVersion, le32((v + 1) >>> 0), ev, `wc_version ${(v + 1) >>> 0} (even: update done)`);
    };
    this.runSteps([step1, step2, step3], spacing);
  }

  /** Xen's expiry of a vcpu's timer: VIRQ_TIMER to that vcpu if the first kernel bound it. */
  timerFired(vcpu: number): ReturnType<XenHypervisor['sendEvent']> {
    const p = timerPort(this.state, vcpu);
    return p ? this.sendEvent(p.port) : 'unbound';
  }

  // ---- naming -------------------------------------------------------------

  /** The Xen field at a guest physical address, if Xen owns it ("shared_info.vcpu_info[0].time.version"). */
  describe(gpa: number): string | undefined {
    const si = this.state.sharedInfo;
    if (si && gpa >= si.gpa && gpa < si.gpa + PAGE_SIZE) return 'shared_info.' + formatFieldAt(sharedInfoFieldAt(gpa - si.gpa));
    for (const r of this.state.vcpuInfo) {
      if (gpa >= r.gpa && gpa < r.gpa + VCPU_INFO.size) return `registered_vcpu_info[${r.vcpu}].` + formatFieldAt(vcpuInfoFieldAt(gpa - r.gpa));
    }
    return undefined;
  }

  // ---- schedules ------------------------------------------------------------

  private startSchedules(): void {
    const cfg = this.config;
    cfg.timeUpdates.forEach((t, i) => this.every(t.every, `time:${i}`, () => this.updateVcpuTime(t.vcpu, t.spacing)));
    if (cfg.wallclock) {
      const w = cfg.wallclock;
      const drift = this.driftRng;
      this.every(w.every, 'wallclock', () => this.updateWallclock(w.spacing, w.driftNs ? drift.intIn(-w.driftNs, w.driftNs) : 0));
    }
    cfg.sends.forEach((p, i) => this.every(p.every, `send:${i}`, () => this.sendEvent(p.port)));
    this.state.timers.forEach((t, i) => {
      const c = cfg.clock;
      const every: Periodic = t.kind === 'periodic'
        ? { period: Math.max(1, nsToInstructions(c, t.periodNs)), phase: nsToInstructions(c, t.firstNs), jitter: 0 }
        : { period: 1, phase: nsToInstructions(c, t.atNs), jitter: 0, count: 1 };
      this.every(every, `timer:${i}`, () => this.timerFired(t.vcpu));
    });
  }

  /** Run `fn` at each occurrence of `p`, jitter drawn from the stream `name` of the seed. */
  private every(p: Periodic, name: string, fn: () => void): void {
    if (!(p.period > 0)) throw new RangeError(`schedule ${name}: period must be > 0`);
    const r = new Recurrence(p, new Prng(this.config.seed, name), fn, this.clock);
    this.recurrences.push(r);
    r.arm();
  }

  private runSteps(steps: (() => void)[], spacing: number): void {
    if (spacing <= 0) { for (const s of steps) s(); return; }
    new StepSequence(steps, spacing, this.clock).fire();
  }

  // ---- memory access ----------------------------------------------------------

  private vcpuInfoLoc(vcpu: number): VcpuInfoLoc | null {
    const r = this.state.vcpuInfo.find((x) => x.vcpu === vcpu);
    if (r) return { gpa: r.gpa, name: `registered_vcpu_info[${vcpu}]` };
    if (vcpu < 0 || vcpu >= Math.min(this.state.vcpus, XEN_LEGACY_MAX_VCPUS)) return null;
    const off = SI.vcpuInfo(vcpu);
    const si = this.state.sharedInfo;
    return si ? { gpa: si.gpa + off, name: `vcpu_info[${vcpu}]` } : { priv: off, name: `vcpu_info[${vcpu}]` };
  }

  private readLoc(loc: VcpuInfoLoc, off: number, len: number): Uint8Array {
    return 'gpa' in loc ? this.mem.readPhys(loc.gpa + off, len) : this.priv!.slice(loc.priv + off, loc.priv + off + len);
  }

  private writeLoc(loc: VcpuInfoLoc, off: number, bytes: Uint8Array, ev: XenEventKind, detail?: string): void {
    const name = `${loc.name}.${vcpuInfoFieldAt(off).path}`;
    if ('gpa' in loc) this.writeIfChanged(loc.gpa + off, bytes, ev, name, detail);
    else this.priv!.set(bytes, loc.priv + off);
  }

  private readSi(off: number, len: number): Uint8Array {
    const si = this.state.sharedInfo;
    return si ? this.mem.readPhys(si.gpa + off, len) : this.priv!.slice(off, off + len);
  }

  private writeSi(off: number, bytes: Uint8Array, ev: XenEventKind, detail?: string): void {
    const si = this.state.sharedInfo;
    if (si) this.writeIfChanged(si.gpa + off, bytes, ev, sharedInfoFieldAt(off).path, detail);
    else this.priv!.set(bytes, off);
  }

  /** Sets bits `m` of the byte at shared_info+off; false when they were already set. */
  private testAndSetSi(off: number, m: number, ev: XenEventKind, detail: string): boolean {
    const b = this.readSi(off, 1)[0]!;
    if (b & m) return false;
    this.writeSi(off, Uint8Array.of(b | m), ev, detail);
    return true;
  }

  private testAndSetLoc(loc: VcpuInfoLoc, off: number, m: number, ev: XenEventKind, detail: string): boolean {
    const b = this.readLoc(loc, off, 1)[0]!;
    if (b & m) return false;
    this.writeLoc(loc, off, Uint8Array.of(b | m), ev, detail);
    return true;
  }

  private writeIfChanged(addr: number, bytes: Uint8Array, ev: XenEventKind, field: string, detail?: string): void {
    const cur = this.mem.readPhys(addr, bytes.length);
    if (equalFrom(cur, bytes, 0)) return;
    this.emit(addr, bytes, ev, field, this.clock.now(), detail);
  }

  private emit(addr: number, bytes: Uint8Array, event: XenEventKind, field: string, at: number, detail?: string): void {
    const source: HypervisorWrite['source'] = detail === undefined
      ? { kind: 'hypervisor', event, field, at }
      : { kind: 'hypervisor', event, field, at, detail };
    const copy = Uint8Array.from(bytes);
    this.mem.writePhys(addr, copy, source);
    if (this.opts.keepLog !== false) this.writes.push({ addr, bytes: copy, source });
  }
}

function u32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function le32(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

function equalFrom(a: Uint8Array, b: Uint8Array, from: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = from; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One periodic activity: occurrence k at phase + k·period + jitter (never
 * before the previous one or now). Its counters are fields, so a restored
 * checkpoint puts the schedule back where it was.
 */
class Recurrence {
  private k = 0;
  private last = -1;

  constructor(private readonly p: Periodic, private readonly rng: Prng, private readonly fn: () => void, private readonly clock: VirtualClock) {}

  arm(): void {
    const p = this.p;
    if (p.count !== undefined && this.k >= p.count) return;
    const j = p.jitter > 0 ? this.rng.intIn(-p.jitter, p.jitter) : 0;
    const at = Math.max(p.phase + this.k * p.period + j, this.last + 1, this.clock.now());
    this.k++;
    this.last = at;
    this.clock.schedule(at, this);
  }

  fire(): void { this.fn(); this.arm(); }
}

/** Steps of one update spread over the clock, `spacing` apart. */
class StepSequence {
  private i = 0;

  constructor(private readonly steps: (() => void)[], private readonly spacing: number, private readonly clock: VirtualClock) {}

  fire(): void {
    this.steps[this.i++]!();
    if (this.i < this.steps.length) this.clock.schedule(this.clock.now() + this.spacing, this);
  }
}
