// What the first kernel left registered with Xen when it kexec'd, and what
// Xen's shared_info page holds at that moment. The hypervisor model
// (hypervisor.ts) keeps servicing exactly this state.

import { EVTCHN_2L_PORTS, PAGE_SIZE, XEN_LEGACY_MAX_VCPUS } from './abi.ts';

/** Where Xen's shared_info page is mapped in the guest's physical address space. */
export interface SharedInfoMapping {
  /** Guest physical address of the page (4 KiB aligned). */
  gpa: number;
  /** False when the frame is outside RAM (MMIO BAR, E820-reserved hole). */
  inRam: boolean;
  /** Why it is there, for reports (era rule and source). */
  label: string;
}

/** A vcpu_info registered with VCPUOP_register_vcpu_info (64 bytes at gfn<<12 | offset). */
export interface RegisteredVcpuInfo {
  vcpu: number;
  /** Guest physical address of the 64-byte structure; must not cross a page. */
  gpa: number;
  label: string;
}

export type PortBinding =
  | { kind: 'virq'; virq: number }
  | { kind: 'interdomain'; peer: string }
  | { kind: 'ipi'; name: string };

/** An event channel the first kernel bound and left bound. */
export interface BoundPort {
  port: number;
  /** The vcpu notified (evtchn notify_vcpu_id). */
  vcpu: number;
  binding: PortBinding;
  /** The port's evtchn_mask bit at kexec (Linux unmasks ports it binds; all others stay masked). */
  masked: boolean;
  /** Its evtchn_pending bit at kexec (an event arrived after the first kernel disabled interrupts). */
  pending: boolean;
}

/** A per-vcpu Xen timer the first kernel left armed; on expiry Xen sends VIRQ_TIMER to that vcpu. */
export type StaleTimer =
  | { vcpu: number; kind: 'periodic'; periodNs: number; /** first expiry, ns of virtual time after instruction 0 */ firstNs: number }
  | { vcpu: number; kind: 'singleshot'; /** ns of virtual time after instruction 0 */ atNs: number };

/** The first kernel's last state inside the shared_info page, beyond what ports imply. */
export interface SharedInfoContent {
  /** evtchn_upcall_mask of each vcpu_info slot (HVM domUs: 0; Xen sets 1 only for PV dom0/registration from a dummy). */
  upcallMask: number;
  /** vcpu_time_info.version of each live slot at kexec (even: no update in progress). */
  timeVersion: number;
  /** wc_version at kexec (even). */
  wcVersion: number;
  /** Wallclock at Xen system time 0 (Unix epoch seconds / ns). */
  wcSec: number;
  wcNsec: number;
  /** Whether this Xen writes wc_sec_hi (Xen 4.6+; e1890c4261, 2015). 2012's Xen 4.1/4.2 did not. */
  wcSecHi: boolean;
  /** vcpu_time_info.flags that Xen writes (XEN_PVCLOCK_TSC_STABLE_BIT from 4.7+, 9e55a33cc8); 0 for 2012. */
  timeFlags: number;
}

export interface StaleState {
  /** vcpus of the domain (each has a vcpu_info: a shared_info slot below 32, or a registered one). */
  vcpus: number;
  sharedInfo: SharedInfoMapping | null;
  vcpuInfo: RegisteredVcpuInfo[];
  ports: BoundPort[];
  timers: StaleTimer[];
  content: SharedInfoContent;
}

export const DEFAULT_CONTENT: SharedInfoContent = {
  upcallMask: 0,
  timeVersion: 600,
  wcVersion: 2,
  wcSec: 1_341_900_000, // July 2012
  wcNsec: 0,
  wcSecHi: false,
  timeFlags: 0,
};

/** SHUTDOWN_soft_reset (Xen 4.7+, requested by Linux 0b34a166): Xen drops every mapping, registration, binding and timer. */
export function softReset(s: StaleState): StaleState {
  return { vcpus: s.vcpus, sharedInfo: null, vcpuInfo: [], ports: [], timers: [], content: s.content };
}

/** Checks a state's internal consistency; returns problems (empty when fine). */
export function checkStaleState(s: StaleState): string[] {
  const out: string[] = [];
  if (!Number.isInteger(s.vcpus) || s.vcpus < 1 || s.vcpus > 128) out.push(`vcpus ${s.vcpus}: must be 1..128`);
  if (s.sharedInfo && s.sharedInfo.gpa % PAGE_SIZE !== 0) out.push(`shared_info gpa 0x${s.sharedInfo.gpa.toString(16)} is not page aligned`);
  const seenVcpu = new Set<number>();
  for (const r of s.vcpuInfo) {
    if (r.vcpu < 0 || r.vcpu >= s.vcpus) out.push(`vcpu_info for vcpu ${r.vcpu}: the domain has ${s.vcpus} vcpus`);
    if (seenVcpu.has(r.vcpu)) out.push(`vcpu ${r.vcpu} has two registered vcpu_info areas (Xen allows one)`);
    seenVcpu.add(r.vcpu);
    if ((r.gpa % PAGE_SIZE) > PAGE_SIZE - 64) out.push(`vcpu_info for vcpu ${r.vcpu} at 0x${r.gpa.toString(16)} crosses a page (Xen returns -EINVAL)`);
    if (s.sharedInfo && Math.floor(r.gpa / PAGE_SIZE) === s.sharedInfo.gpa / PAGE_SIZE) out.push(`vcpu_info for vcpu ${r.vcpu} lies inside the shared_info frame`);
  }
  for (let v = 0; v < s.vcpus; v++) {
    if (v >= XEN_LEGACY_MAX_VCPUS && !seenVcpu.has(v)) out.push(`vcpu ${v} has no shared_info slot (>= ${XEN_LEGACY_MAX_VCPUS}) and no registered vcpu_info`);
  }
  const seenPort = new Set<number>();
  for (const p of s.ports) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port >= EVTCHN_2L_PORTS) out.push(`port ${p.port}: must be 1..${EVTCHN_2L_PORTS - 1} (port 0 is never bound)`);
    if (seenPort.has(p.port)) out.push(`port ${p.port} bound twice`);
    seenPort.add(p.port);
    if (p.vcpu < 0 || p.vcpu >= s.vcpus) out.push(`port ${p.port} notifies vcpu ${p.vcpu}: the domain has ${s.vcpus} vcpus`);
  }
  for (const t of s.timers) if (t.vcpu < 0 || t.vcpu >= s.vcpus) out.push(`timer on vcpu ${t.vcpu}: the domain has ${s.vcpus} vcpus`);
  return out;
}

/** The VIRQ_TIMER port bound for a vcpu, if any. */
export function timerPort(s: StaleState, vcpu: number): BoundPort | undefined {
  return s.ports.find((p) => p.vcpu === vcpu && p.binding.kind === 'virq' && p.binding.virq === 0);
}
