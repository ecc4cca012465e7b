// The two small interfaces the Xen shim needs from the machine, and the
// record that attributes every hypervisor write. The machine (src/machine/)
// implements them; test/xen/fakes.ts has tiny fakes.

/** Who wrote guest memory. The machine keeps one of these per write for provenance. */
export type WriteSource =
  | {
      kind: 'hypervisor';
      /** What Xen was doing, e.g. 'vcpu_time_update', 'evtchn_send', 'wallclock_update', 'initial_state'. */
      event: XenEventKind;
      /** The field written, e.g. 'vcpu_info[0].time.system_time', 'evtchn_pending[0]', 'wc_sec'. */
      field: string;
      /** Virtual time of the write (instructions retired). */
      at: number;
      /** Extra detail for reports, e.g. 'version 7 (odd: update in progress)', 'bit 3 (port 3)'. */
      detail?: string;
    }
  | { kind: 'cpu'; rip?: bigint; at: number }
  | { kind: 'loader'; what: string; at: number }
  | { kind: 'device'; name: string; at: number };

export type XenEventKind =
  | 'initial_state'
  | 'vcpu_time_update'
  | 'evtchn_send'
  | 'wallclock_update';

/** What a Xen-owned frame is, for routing and reports. */
export interface XenFrame {
  /** Guest frame number (physical address >> 12). */
  gfn: number;
  /** 'shared_info': the whole frame is Xen's shared_info page. 'vcpu_info': a guest RAM frame holding a registered vcpu_info. */
  role: 'shared_info' | 'vcpu_info';
  /**
   * For 'shared_info': false when the gfn is outside guest RAM (the MMIO BAR or
   * the E820-reserved hole of the 3.7/3.8 fixes) — the machine must back the
   * frame with a page of its own so that guest reads and writes behave as RAM.
   * For 'vcpu_info': always true (registered vcpu_info sits in ordinary RAM).
   */
  inRam: boolean;
  /** For 'vcpu_info': the byte ranges within the frame that Xen writes ([offset, offset+64)). */
  ranges: { offset: number; length: number; vcpu: number }[];
  /** Short human label, e.g. "stale shared_info (Linux 3.x brk page)". */
  label: string;
}

/**
 * Guest physical memory as the hypervisor sees it. Addresses are guest
 * physical (< 2^52, exact in a JS number).
 */
export interface XenGuestMemory {
  /** Write bytes at a guest physical address; the machine records `writer` as the bytes' provenance. */
  writePhys(addr: number, bytes: Uint8Array, writer: WriteSource): void;
  /** Read `len` bytes at a guest physical address (what the guest would read there now). */
  readPhys(addr: number, len: number): Uint8Array;
  /**
   * Declare a frame Xen-owned (or release it with `null`). From then on the
   * machine backs the frame (even outside RAM, see XenFrame.inRam), sends
   * guest writes to it down the attributed slow path, and can report the
   * first guest write into it ("the new kernel overwrites the shared_info page").
   */
  setXenFrame(gfn: number, frame: XenFrame | null): void;
}

/** The machine's virtual clock: time is instructions retired. */
export interface VirtualClock {
  /** Instructions retired so far. */
  now(): number;
  /**
   * Call `callback` once now() >= `at`, between two instructions (at
   * exactly `at` when the machine steps one instruction at a time). Callbacks
   * with equal `at` run in the order they were scheduled; a callback may
   * schedule further callbacks (with `at` >= now()).
   */
  schedule(at: number, event: (() => void) | { fire(): void }): void;
}
