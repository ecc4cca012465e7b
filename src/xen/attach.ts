// Attaching the Xen shim to a kexec boot: the machine side of
// XenGuestMemory / VirtualClock over a BootMachine, and the timeline of
// what happened in Xen's frames.
//
//  - Xen frames in RAM (a stale shared_info over a RAM page, a registered
//    vcpu_info) are write-tracked: every guest write there takes the slow
//    path and is attributed; hypervisor writes go through `ram.writeBy`
//    (attributed to the hypervisor, decoded code there invalidated).
//  - Xen frames outside RAM (the 00e37bdb MMIO BAR page, 9d02b43d's page in
//    the E820-reserved hole) are backed by a Xen-only page here. The guest's
//    view of those addresses is unchanged (reads of unbacked physical
//    memory return all-ones, writes are dropped): the new kernel never
//    touches them on the boot path, so they have no guest effect. Xen reads
//    and writes its page as usual.
//  - The clock is the CPU's instruction count; callbacks go on the
//    machine's event scheduler, which runs them at their exact count.
import { disassemble } from '../../emulator/index.ts';
import type { BootMachine } from '../machine/bootMachine.ts';
import type { BootContext, Phase } from '../boot/phases.ts';
import { MSR_TSC } from '../../emulator/msr.ts';
import type { ClockModel } from './xenTime.ts';
import type { VirtualClock, WriteSource, XenEventKind, XenFrame, XenGuestMemory } from './platform.ts';

const PAGE = 4096;

/** One hypervisor write into guest-visible memory. */
export interface XenWriteEvent {
  icount: number;
  addr: number;
  /** The field as Xen names it: "vcpu_info[0].time.system_time", "evtchn_pending[0]", "registered_vcpu_info[0].time.version". */
  field: string;
  event: XenEventKind;
  detail?: string;
  before: Uint8Array;
  after: Uint8Array;
  /** False for writes to a Xen-only page outside RAM (no guest effect). */
  guestVisible: boolean;
  /** Where it landed in the new boot's memory; filled in after the run (see `placeWrites`). */
  landed?: string;
  /** True when it landed inside the new kernel's image [_text, _end) after the decompressor jumped to startup_64. */
  inImageAfterEntry?: boolean;
  /** A counterfactual run left this write out (the guest's memory kept its bytes). */
  suppressed?: boolean;
}

/** A guest (CPU) write into a Xen frame. */
export interface GuestFrameWrite {
  gfn: number;
  icount: number;
  addr: number;
  len: number;
  rip: bigint;
  phase: Phase;
  bits: number;
  instruction: string;
  /** symbol+offset of rip, resolved after the run. */
  where?: string;
}

export interface LoaderFrameWrite { gfn: number; addr: number; len: number; what: string }

export interface XenTimeline {
  frames: XenFrame[];
  hypervisorWrites: XenWriteEvent[];
  /** The first CPU write into each Xen frame ("the new kernel overwrites the shared_info page"). */
  firstGuestWrite: GuestFrameWrite[];
  /** The first CPU write that overlapped bytes Xen writes (for shared_info: its first 0xc40 bytes; for vcpu_info: the 64 bytes). */
  firstGuestWriteToXenField: GuestFrameWrite[];
  /** CPU write records per frame (instructions that wrote there). */
  guestWrites: Record<number, number>;
  /** Loader writes into Xen frames (kexec's copy through Xen's mapping). */
  loaderWrites: LoaderFrameWrite[];
  /** Upcalls Xen raised (evtchn_upcall_pending 0 → 1): vcpu and icount. No interrupt is injected (IF is clear on the boot path). */
  upcalls: { vcpu: number; icount: number }[];
}

/** The machine side of the shim: memory + clock over a BootMachine, recording the timeline. */
export class XenAttachment implements XenGuestMemory, VirtualClock {
  readonly timeline: XenTimeline = { frames: [], hypervisorWrites: [], firstGuestWrite: [], firstGuestWriteToXenField: [], guestWrites: {}, loaderWrites: [], upcalls: [] };
  private readonly frames = new Map<number, XenFrame>();
  private readonly xenOnly = new Map<number, Uint8Array>();
  private ctx: BootContext | null = null;

  constructor(readonly m: BootMachine) {
    const prev = m.ram.onTrackedWrite;
    m.ram.onTrackedWrite = (addr, len, id) => {
      prev?.(addr, len, id);
      this.onTracked(addr, len, id);
    };
  }

  /**
   * For counterfactual runs: guest-visible hypervisor writes for which this
   * returns true are left out (recorded as suppressed). A private field:
   * configuration of the experiment, not state that checkpoints restore.
   */
  #suppress: ((w: { icount: number; addr: number; field: string }) => boolean) | null = null;
  suppressWrites(f: ((w: { icount: number; addr: number; field: string }) => boolean) | null): void { this.#suppress = f; }

  /** The boot's context, so guest writes can be placed in a phase (call from bootKexec's `prepare`). */
  setContext(ctx: BootContext): void { this.ctx = ctx; }

  /** Give the CPU the scenario's TSC: `tscPerInstruction` per instruction, `tscAtStart` at instruction 0. */
  configureTsc(c: ClockModel): void {
    const cpu = this.m.cpu;
    cpu.tscPerInstruction = c.tscPerInstruction;
    cpu.msr.set(MSR_TSC, BigInt(c.tscAtStart) - BigInt(cpu.icount) * BigInt(c.tscPerInstruction));
  }

  // ---- VirtualClock --------------------------------------------------------

  now(): number { return this.m.cpu.icount; }
  schedule(at: number, event: (() => void) | { fire(): void }): void { this.m.scheduler.at(at, event); }

  // ---- XenGuestMemory --------------------------------------------------------

  private inRam(addr: number, len: number): boolean { return addr >= 0 && addr + len <= this.m.ram.size; }

  readPhys(addr: number, len: number): Uint8Array {
    if (this.inRam(addr, len)) return this.m.ram.read(addr, len);
    const out = new Uint8Array(len).fill(0xff);
    for (let k = 0; k < len; k++) {
      const p = this.xenOnly.get(Math.floor((addr + k) / PAGE));
      if (p) out[k] = p[(addr + k) % PAGE]!;
    }
    return out;
  }

  writePhys(addr: number, bytes: Uint8Array, w: WriteSource): void {
    if (w.kind !== 'hypervisor') throw new Error(`XenAttachment.writePhys: only the hypervisor writes through here (got ${w.kind})`);
    const before = this.readPhys(addr, bytes.length);
    const visible = this.inRam(addr, bytes.length);
    if (visible && this.#suppress?.({ icount: w.at, addr, field: w.field })) {
      this.timeline.hypervisorWrites.push({ icount: w.at, addr, field: w.field, event: w.event, before, after: Uint8Array.from(bytes), guestVisible: visible, suppressed: true });
      return;
    }
    if (visible) {
      this.m.ram.writeBy(addr, bytes, { kind: 'hypervisor', icount: w.at, what: w.field + (w.detail ? ` (${w.detail})` : '') });
    } else {
      for (let k = 0; k < bytes.length; k++) {
        const p = this.xenOnly.get(Math.floor((addr + k) / PAGE));
        if (p) p[(addr + k) % PAGE] = bytes[k]!;
      }
    }
    const ev: XenWriteEvent = { icount: w.at, addr, field: w.field, event: w.event, before, after: Uint8Array.from(bytes), guestVisible: visible };
    if (w.detail !== undefined) ev.detail = w.detail;
    this.timeline.hypervisorWrites.push(ev);
  }

  setXenFrame(gfn: number, frame: XenFrame | null): void {
    if (!frame) { this.frames.delete(gfn); this.xenOnly.delete(gfn); return; }
    this.frames.set(gfn, frame);
    this.timeline.frames.push(frame);
    if (this.inRam(gfn * PAGE, PAGE)) this.m.trackRange(gfn * PAGE, PAGE);
    else this.xenOnly.set(gfn, new Uint8Array(PAGE).fill(0xff));
  }

  /** Xen raised an upcall (HypervisorOptions.onUpcall). */
  upcall(vcpu: number, at: number): void { this.timeline.upcalls.push({ vcpu, icount: at }); }

  // ---- the timeline ------------------------------------------------------------

  private onTracked(addr: number, len: number, id: number): void {
    const gfn = Math.floor(addr / PAGE);
    const f = this.frames.get(gfn);
    if (!f) return;
    const r = this.m.ram.provenance.recordAt(id);
    const t = this.timeline;
    if (r.kind === 'loader') {
      const last = t.loaderWrites[t.loaderWrites.length - 1];
      if (!(last && last.gfn === gfn && last.what === r.what && last.addr + last.len === addr)) t.loaderWrites.push({ gfn, addr, len, what: r.what ?? 'loader' });
      else last.len += len;
      return;
    }
    if (r.kind !== 'cpu') return;
    const fresh = (t.guestWrites[gfn] ?? 0) === 0 || this.lastCpuId.get(gfn) !== id;
    if (fresh) { t.guestWrites[gfn] = (t.guestWrites[gfn] ?? 0) + 1; this.lastCpuId.set(gfn, id); }
    const mk = (): GuestFrameWrite => {
      const bits = this.m.cpu.codeBits;
      const rip = r.rip ?? 0n;
      return {
        gfn, icount: r.icount, addr, len, rip, phase: this.ctx?.phase ?? 'purgatory', bits,
        instruction: r.bytes ? disassemble(r.bytes, bits, rip) : '?',
      };
    };
    if (!t.firstGuestWrite.some((w) => w.gfn === gfn)) t.firstGuestWrite.push(mk());
    if (!t.firstGuestWriteToXenField.some((w) => w.gfn === gfn) && overlapsXenBytes(f, addr % PAGE, len)) {
      t.firstGuestWriteToXenField.push(mk());
    }
  }

  private readonly lastCpuId = new Map<number, number>();
}

/** Does [off, off+len) overlap the bytes of the frame Xen writes to? */
function overlapsXenBytes(f: XenFrame, off: number, len: number): boolean {
  if (f.role === 'shared_info') return off < 0xc40; // sizeof(struct shared_info) on x86_64
  return f.ranges.some((r) => off < r.offset + r.length && off + len > r.offset);
}
