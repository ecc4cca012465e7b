// What the guest finds in Xen-owned memory when the new kernel starts.
//
// Decision (see docs/xen-shim.md, "Initial content"): when the first kernel
// mapped shared_info at a guest frame, Xen *replaced* that frame by its own
// page (XENMEM_add_to_physmap removes the RAM page from the physmap). So at
// kexec the guest sees Xen's shared_info as the first kernel left it, not
// whatever RAM held: its vcpu_info slots with the last time record, the
// event-channel pending and mask bits, the wallclock, zeroed arch fields and
// a zero tail past the structure (Xen allocates the page zeroed). A
// registered vcpu_info is ordinary RAM holding the first kernel's per-cpu
// copy, which Xen kept current.

import { PAGE_SIZE, SI, TI, VI, VCPU_INFO, XEN_LEGACY_MAX_VCPUS, EVTCHN_WORD_BITS, EVTCHN_WORDS, XEN_ULONG_BYTES } from './abi.ts';
import type { StaleState } from './staleState.ts';
import { systemTimeAt, tscAt, tscHzOf, tscScale, type ClockModel } from './xenTime.ts';

/** Xen system time (ns since domain start) at which we say the first kernel registered its vcpu_info. */
export const REGISTRATION_TIME_NS = 2_000_000_000;
/** vcpu_time_info.version left frozen in a shared_info slot after its vcpu registered elsewhere. */
export const FROZEN_SLOT_VERSION = 4;

/** The 32-byte vcpu_time_info record Xen would write at `icount`, with `version`. */
export function timeRecord(clock: ClockModel, icount: number, version: number, flags: number): Uint8Array {
  const rec = new Uint8Array(32);
  const dv = new DataView(rec.buffer);
  const scale = tscScale(tscHzOf(clock));
  dv.setUint32(TI.version, version >>> 0, true);
  dv.setBigUint64(TI.tscTimestamp, tscAt(clock, icount), true);
  dv.setBigUint64(TI.systemTime, systemTimeAt(clock, icount), true);
  dv.setUint32(TI.tscToSystemMul, scale.mul >>> 0, true);
  dv.setInt8(TI.tscShift, scale.shift);
  dv.setUint8(TI.flags, flags & 0xff);
  return rec;
}

/** A time record for a given Xen system time (used for the slot frozen at registration). */
function timeRecordAtNs(clock: ClockModel, ns: number, version: number, flags: number): Uint8Array {
  const rec = timeRecord(clock, 0, version, flags);
  const dv = new DataView(rec.buffer);
  const tsc = (BigInt(ns) * BigInt(tscHzOf(clock))) / 1_000_000_000n;
  dv.setBigUint64(TI.tscTimestamp, tsc, true);
  dv.setBigUint64(TI.systemTime, BigInt(ns), true);
  return rec;
}

/** The 64-byte vcpu_info of `vcpu` as the first kernel left it (pending state from its ports). */
export function initialVcpuInfo(s: StaleState, clock: ClockModel, vcpu: number, frozen: boolean): Uint8Array {
  const vi = new Uint8Array(VCPU_INFO.size);
  vi[VI.upcallMask] = s.content.upcallMask & 0xff;
  if (frozen) {
    vi.set(timeRecordAtNs(clock, REGISTRATION_TIME_NS, FROZEN_SLOT_VERSION, s.content.timeFlags), VI.time);
    return vi;
  }
  let sel = 0n;
  for (const p of s.ports) {
    if (p.vcpu !== vcpu || !p.pending || p.masked) continue;
    sel |= 1n << BigInt(Math.floor(p.port / EVTCHN_WORD_BITS));
  }
  if (sel !== 0n) vi[VI.upcallPending] = 1;
  new DataView(vi.buffer).setBigUint64(VI.pendingSel, sel, true);
  vi.set(timeRecord(clock, 0, s.content.timeVersion, s.content.timeFlags), VI.time);
  return vi;
}

/** The whole 4 KiB shared_info page at instruction 0. */
export function initialSharedInfoPage(s: StaleState, clock: ClockModel): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE);
  const dv = new DataView(page.buffer);
  const registered = new Set(s.vcpuInfo.map((r) => r.vcpu));
  for (let v = 0; v < Math.min(s.vcpus, XEN_LEGACY_MAX_VCPUS); v++) {
    page.set(initialVcpuInfo(s, clock, v, registered.has(v)), SI.vcpuInfo(v));
  }
  // Linux masks every port when it sets up event channels and unmasks the ones it binds.
  page.fill(0xff, SI.evtchnMask, SI.evtchnMask + EVTCHN_WORDS * XEN_ULONG_BYTES);
  for (const p of s.ports) {
    const byte = Math.floor(p.port / 8), bit = 1 << (p.port % 8);
    if (!p.masked) page[SI.evtchnMask + byte]! &= ~bit;
    if (p.pending) page[SI.evtchnPending + byte]! |= bit;
  }
  dv.setUint32(SI.wcVersion, s.content.wcVersion >>> 0, true);
  dv.setUint32(SI.wcSec, s.content.wcSec >>> 0, true);
  dv.setUint32(SI.wcNsec, s.content.wcNsec >>> 0, true);
  if (s.content.wcSecHi) dv.setUint32(SI.wcSecHi, Math.floor(s.content.wcSec / 2 ** 32) >>> 0, true);
  return page;
}
