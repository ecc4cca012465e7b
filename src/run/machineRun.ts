// A run you can drive, for any machine of ours: it advances on the virtual
// clock until an instruction count, a breakpoint, a watchpoint, a request
// to stop, or the end of the run (crash, hang, exit, budget); breakpoints
// and watchpoints live in the emulator; with history on it keeps
// checkpoints and can go back to any earlier instruction count by restoring
// one and re-executing. BootRun (a kexec boot) and MultibootRun (a bare-metal
// program) add what they know about the guest; front ends (the CLI, the gdb
// stub, sweeps, the library) drive them.
import { Stop, type Cpu } from '../../emulator/index.ts';
import type { TrackedRam } from '../machine/trackedRam.ts';
import type { WriteRecord } from '../machine/provenance.ts';
import { PAGE } from '../machine/ram.ts';
import { Checkpoints } from './checkpoints.ts';
import { InputError, InternalError } from '../errors.ts';
import type { CaptureOptions } from './stateImage.ts';

/** What a run needs of its machine. */
export interface RunMachine {
  readonly cpu: Cpu;
  readonly ram: TrackedRam;
  /** Bytes the UART has transmitted so far. */
  readonly serialLength: number;
  /** Run up to `budget` instructions, with the machine's scheduled events. */
  run(budget: number): Stop;
  /** The write record of the instruction executing now. */
  cpuWriter(): WriteRecord;
  /** The status the guest asked to exit with (isa-debug-exit), or null. */
  readonly exitStatus?: number | null;
}

/** How a run ended: reached its target, crashed, hung, ran out of instructions, or (a bare-metal program) exited. */
export type Outcome = 'reached' | 'crashed' | 'hung' | 'budget' | 'exited';

/** Why `advance` returned. */
export type RunStop =
  | { kind: 'limit' }
  | { kind: 'breakpoint'; address: bigint }
  | { kind: 'watch'; hit: WatchHit }
  | { kind: 'interrupted' }
  | { kind: 'end'; outcome: Outcome; reason: string };

/** What a watchpoint stops on: writes, reads, or both. */
export type WatchKind = 'write' | 'read' | 'access';
/** A watchpoint on guest-physical bytes. */
export interface Watchpoint { /** What it stops on. */ kind: WatchKind; /** Guest-physical start. */ phys: number; /** Bytes watched. */ len: number; /** What the user named it by (a linear address). */ addr: bigint }
/** A watchpoint's hit: the access and who made it. */
export interface WatchHit {
  /** The watchpoint hit. */
  watch: Watchpoint;
  /** Virtual time of the access (the accessing instruction has retired when the run stops). */
  icount: number;
  /** True for a write, false for a read. */
  write: boolean;
  /** Guest-physical address and size of the access. */
  addr: number;
  /** Bytes accessed. */
  size: number;
  /** Who accessed: the CPU (rip, bytes), or for writes the loader, a device or the hypervisor (with the Xen field). */
  by: WriteRecord;
}

/** Something that follows a run slice by slice (the hang detector). Its state must live in fields: checkpoints restore it in place. */
export interface SliceObserver {
  /** At each multiple of `sliceEvery` instructions: a reason string ends the run as hung. */
  onSlice?(run: MachineRun): string | null;
}

export interface RunStateBase {
  outcome: Outcome | null;
  reason: string;
  hang: { kind: 'hlt' | 'loop'; detail: string } | null;
  /** What stopped the CPU last (set by breakpoint and watch callbacks). */
  cause: RunStop | null;
}

/** Forwards console bytes once: re-executing from a checkpoint does not print them again. */
export class SerialGate {
  private shown = 0;
  machine: { serialLength: number } | null = null;
  constructor(private readonly out: ((byte: number) => void) | undefined) {}
  readonly sink = (byte: number): void => {
    if (this.out && this.machine && this.machine.serialLength > this.shown) { this.shown++; this.out(byte); }
  };
}

export interface MachineRunOptions {
  budget: number;
  sliceEvery: number;
  observers: SliceObserver[];
  gate?: SerialGate;
}

/**
 * A run to drive on the virtual clock, for any machine of ours (BootRun for
 * kexec boots): advance to an instruction count, step, breakpoints and
 * watchpoints that live in the emulator, and with history (enableHistory)
 * going back to any earlier instruction.
 */
export abstract class MachineRun<M extends RunMachine = RunMachine, X extends object = object> {
  /** The machine being run: its CPU, RAM and devices. */
  readonly machine: M;
  /** The instruction budget: the run ends as 'budget' when the virtual clock reaches it. */
  readonly budget: number;
  /** Observers' slices fall on multiples of this (deterministic whatever drives the run). */
  readonly sliceEvery: number;
  protected readonly state: RunStateBase & X;
  protected readonly observers: SliceObserver[];
  private readonly extraRoots: object[] = [];
  private readonly userBreaks = new Map<number, bigint>();
  /** Linear address keys where the subclass keeps a breakpoint of its own (onInternalBreak). */
  protected readonly internalKeys = new Set<number>();
  private readonly watches: Watchpoint[] = [];
  /** While replaying to find the last hit before a point, hits are collected instead of stopping. */
  private collecting: { breaks: { icount: number; address: bigint }[]; watches: WatchHit[] } | null = null;
  private history: Checkpoints | null = null;

  constructor(machine: M, o: MachineRunOptions, extra: X) {
    this.machine = machine;
    this.budget = o.budget;
    this.sliceEvery = o.sliceEvery;
    this.observers = o.observers;
    this.state = { outcome: null, reason: '', hang: null, cause: null, ...extra };
    if (o.gate) o.gate.machine = machine;
    machine.ram.onWatchedAccess = (addr, size, write) => this.onWatched(addr, size, write);
  }

  /** The virtual clock: instructions retired so far. */
  get icount(): number { return this.machine.cpu.icount; }
  /** The outcome once the run has ended (null while it can go on). */
  get outcome(): Outcome | null { return this.state.outcome; }
  /** Why the run ended, in words ('' while it can go on). */
  get reason(): string { return this.state.reason; }

  /** "symbol+0xoff" for an address (as far as the run knows its guest), else hex. */
  describe(addr: bigint, _atIcount?: number): string { return `0x${addr.toString(16)}`; }

  /** Objects whose state follows checkpoints besides the machine's (e.g. the Xen shim, which the machine reaches only through closures). */
  addStateRoot(o: object): void { this.extraRoots.push(o); }

  // ---- breakpoints and watchpoints -----------------------------------------------

  /** An execution breakpoint at a linear address: `advance` stops before executing it. */
  addBreakpoint(addr: bigint): void {
    const key = keyOf(addr);
    if (this.userBreaks.has(key)) return;
    this.userBreaks.set(key, addr);
    if (!this.internalKeys.has(key)) this.installCore(addr);
  }

  /** Remove the breakpoint at `addr`; false if there was none. */
  removeBreakpoint(addr: bigint): boolean {
    const key = keyOf(addr);
    if (!this.userBreaks.delete(key)) return false;
    if (!this.internalKeys.has(key)) this.machine.cpu.removeBreakpoint(lo32(addr), hi32(addr));
    return true;
  }

  /** The user breakpoints (linear addresses). */
  get breakpoints(): bigint[] { return [...this.userBreaks.values()]; }

  /** Watch guest-physical [phys, phys+len) for writes, reads or both; `addr` is what the user called it. */
  addWatch(w: Watchpoint): void {
    this.watches.push(w);
    // Compiled blocks end early after a watched write but not after a read: reads need the interpreter to stop exactly.
    this.machine.cpu.interpretOnly = this.watches.some((x) => x.kind !== 'write');
    this.machine.ram.watchFrames(w.phys, w.len, w.kind !== 'write', w.kind !== 'read');
    this.machine.cpu.flushTlb();
  }

  /** Remove the watchpoint of `kind` on `addr`, `len`; false if there was none. */
  removeWatch(kind: WatchKind, addr: bigint, len: number): boolean {
    const k = this.watches.findIndex((w) => w.kind === kind && w.addr === addr && w.len === len);
    if (k < 0) return false;
    this.watches.splice(k, 1);
    this.machine.cpu.interpretOnly = this.watches.some((x) => x.kind !== 'write');
    const ram = this.machine.ram;
    ram.clearWatches();
    for (const w of this.watches) ram.watchFrames(w.phys, w.len, w.kind !== 'write', w.kind !== 'read');
    this.machine.cpu.flushTlb();
    return true;
  }

  /** The watchpoints set. */
  get watchpoints(): readonly Watchpoint[] { return this.watches; }

  /** Drop every user breakpoint and watchpoint (a debugger detached). */
  clearUserPoints(): void {
    for (const addr of [...this.userBreaks.values()]) this.removeBreakpoint(addr);
    this.watches.length = 0;
    this.machine.cpu.interpretOnly = false;
    this.machine.ram.clearWatches();
    this.machine.cpu.flushTlb();
  }

  // ---- driving the run -----------------------------------------------------------

  /** Ask a running `advance` to stop soon (from a callback, or between slices). */
  requestStop(): void {
    this.state.cause = { kind: 'interrupted' };
    this.machine.cpu.stopRequested = true;
  }

  /**
   * Run until the instruction count reaches `to` (at most the budget), or
   * something stops it first. `skipBreakAtStart`: do not stop at a
   * breakpoint on the current instruction (resuming from it).
   */
  advance(to: number, skipBreakAtStart = true): RunStop {
    let s: RunStop;
    try {
      s = this.advanceRaw(to, skipBreakAtStart);
    } catch (e) {
      // Guest faults never get here (the CPU delivers or reports them): anything else is our bug.
      if (e instanceof InputError || e instanceof InternalError) throw e;
      throw new InternalError(e, this.machine.cpu.icount, this.machine.cpu.getRip());
    }
    if (s.kind !== 'end') this.afterAdvance();
    return this.state.outcome !== null && s.kind !== 'end' ? this.ended() : s;
  }

  private advanceRaw(to: number, skipBreakAtStart: boolean): RunStop {
    const m = this.machine, c = m.cpu;
    if (this.state.outcome !== null) return this.ended();
    if (skipBreakAtStart) this.resumeFromBreak();
    this.state.cause = null;
    const stopAt = Math.min(to, this.budget);
    let idle = 0; // stops that moved nothing: a bug of ours must not hang the host
    while (c.icount < stopAt) {
      const before = c.icount;
      const slice = (Math.floor(c.icount / this.sliceEvery) + 1) * this.sliceEvery;
      let next = Math.min(stopAt, slice);
      if (this.history !== null) next = Math.min(next, this.nextCheckpointAt());
      const stop = m.run(next - c.icount);
      if (m.exitStatus != null) return this.end('exited', `the guest exited with status ${m.exitStatus}`, null);
      if (stop === Stop.Budget) {
        if (c.icount === slice) {
          this.onSliceBoundary();
          for (const o of this.observers) {
            const why = o.onSlice?.(this);
            if (why) return this.end('hung', why, { kind: 'loop', detail: why });
          }
        }
        if (this.history !== null && c.icount % this.historyInterval === 0) this.history.take();
        continue;
      }
      const cause = this.state.cause as RunStop | null; // set by callbacks during m.run
      this.state.cause = null;
      if (stop === Stop.Breakpoint || stop === Stop.Requested) {
        if (cause?.kind === 'end') return this.end(cause.outcome, cause.reason, null);
        if (cause !== null) return cause;
        if (c.icount === before && ++idle > 10_000) throw new Error(`the run makes no progress at instruction ${c.icount}: stopped ${idle} times with nothing to report`);
        continue;
      }
      if (stop === Stop.TripleFault) return this.end('crashed', 'triple fault', null);
      if (stop === Stop.Runaway) return this.end('crashed', `runaway: executing zero-filled memory (thousands of \`add %al,(%rax)\`) at rip 0x${c.getRip().toString(16)}, a jump into nowhere`, null);
      if (stop === Stop.Halt) {
        const why = (c.getRflags() & 0x200) ? 'hlt with no interrupt source' : 'hlt with interrupts disabled';
        return this.end('hung', why, { kind: 'hlt', detail: why });
      }
      if (stop === Stop.Fault) return this.end('crashed', `unhandled ${c.lastFault?.message ?? 'fault'}`, null);
    }
    if (c.icount >= this.budget) return this.end('budget', `instruction budget of ${this.budget} exhausted`, null);
    return { kind: 'limit' };
  }

  /** Execute one instruction (one iteration of a rep string instruction). */
  step(): RunStop {
    const c = this.machine.cpu;
    const saved = c.stepLimit;
    c.stepLimit = 1;
    try { return this.advance(c.icount + 1, true); } finally { c.stepLimit = saved; }
  }

  // ---- history (reverse execution) -------------------------------------------------

  /** Keep checkpoints every `interval` instructions from now on (the first one now), within `maxBytes` of saved state. */
  enableHistory(interval = 20_000_000, maxBytes = 1 << 30): void {
    if (this.history !== null) return;
    this.historyInterval = interval;
    this.history = new Checkpoints(this.machine, () => this.stateRoots(), () => this.captureOptions(), maxBytes);
    this.history.take();
  }

  /** The checkpoints kept (count, bytes, instruction counts), or null without history. */
  get historyStats() { return this.history?.stats() ?? null; }

  /** The earliest instruction count the history reaches. */
  get historyBegin(): number { return this.history?.first ?? this.icount; }

  /**
   * Go to instruction count `to` (earlier or later) by restoring the newest
   * checkpoint at or before it and executing forward without stopping at
   * breakpoints. Returns false when `to` is before the history's beginning.
   */
  goto(to: number): boolean {
    const h = this.history;
    if (to < this.icount) {
      if (h === null) return false;
      const k = h.indexAtOrBefore(to);
      if (k < 0) return false;
      h.restore(k);
    }
    this.replayTo(to, null);
    return true;
  }

  /**
   * The last breakpoint or watchpoint hit strictly before the current
   * instruction count, searching back through the checkpoints; the run is
   * left there (before the instruction, for a breakpoint or the access).
   * null: none in the whole history — the run is left at its beginning.
   */
  reverseToLastHit(): { kind: 'breakpoint'; address: bigint } | { kind: 'watch'; hit: WatchHit } | null {
    const h = this.history;
    if (h === null) return null;
    let end = this.icount;
    for (;;) {
      const k = h.indexAtOrBefore(end - 1);
      if (k < 0) { h.restore(0); return null; }
      const from = h.icountOf(k);
      h.restore(k);
      const hits = { breaks: [] as { icount: number; address: bigint }[], watches: [] as WatchHit[] };
      this.replayTo(end, hits);
      type Hit = { at: number; hit: { kind: 'breakpoint'; address: bigint } | { kind: 'watch'; hit: WatchHit } };
      let best: Hit | null = null;
      for (const b of hits.breaks) if (b.icount < end && (!best || b.icount >= best.at)) best = { at: b.icount, hit: { kind: 'breakpoint', address: b.address } };
      for (const w of hits.watches) if (w.icount < end && (!best || w.icount >= best.at)) best = { at: w.icount, hit: { kind: 'watch', hit: w } };
      if (best !== null) {
        h.restore(h.indexAtOrBefore(best.at));
        this.replayTo(best.at, null);
        return best.hit;
      }
      if (k === 0) { h.restore(0); return null; }
      end = from;
    }
  }

  /**
   * The last writer of each byte of guest-physical [phys, phys+len) before
   * now: from write provenance where the frames are tracked, otherwise by
   * re-executing from checkpoints with the frames tracked (going back twice
   * as far each time until every byte is explained). null for a byte: not
   * written since the run began (it holds what the loader put there, or
   * zero). The run is left where it was.
   */
  lastWriters(phys: number, len: number): (WriteRecord | null)[] {
    const ram = this.machine.ram, prov = ram.provenance;
    const frames: number[] = [];
    for (let f = Math.floor(phys / PAGE); f * PAGE < phys + len; f++) frames.push(f);
    const answer = (): (WriteRecord | null)[] => Array.from({ length: len }, (_, k) => prov.whoWrote(phys + k) ?? null);
    if (frames.every((f) => prov.isTracked(f))) return answer();
    const h = this.history;
    if (h === null) throw new Error('who-wrote needs the run\'s history (checkpoints) for frames that are not tracked');
    const now = this.icount;
    const found: (WriteRecord | null | undefined)[] = new Array(len).fill(undefined);
    try {
      for (let back = 1; ; back *= 2) {
        const k = Math.max(0, h.indexAtOrBefore(now) - (back - 1));
        const from = h.icountOf(k);
        h.restore(k);
        for (const f of frames) ram.track(f);
        this.machine.cpu.flushTlb();
        this.replayTo(now, null);
        const got = answer();
        for (let i = 0; i < len; i++) if (found[i] === undefined && got[i] !== null && got[i]!.icount >= from) found[i] = got[i];
        if (found.every((x) => x !== undefined) || k === 0) break;
      }
    } finally {
      this.goto(now);
      ram.refreshFrames(frames);
      this.machine.cpu.flushTlb();
    }
    return found.map((x) => x ?? null);
  }

  private historyInterval = 0;

  private nextCheckpointAt(): number {
    return (Math.floor(this.icount / this.historyInterval) + 1) * this.historyInterval;
  }

  /** Execute forward to exactly `to` without stopping for user points (collecting their hits when asked). */
  private replayTo(to: number, collect: MachineRun['collecting']): void {
    const c = this.machine.cpu;
    this.collecting = collect ?? { breaks: [], watches: [] };
    try {
      while (c.icount < to && this.state.outcome === null) {
        const s = this.advance(to, false);
        if (s.kind === 'end') break;
      }
    } finally {
      this.collecting = null;
    }
  }

  private stateRoots(): object[] {
    return [this.machine, this.state, ...this.observers, ...this.extraRoots];
  }

  private captureOptions(): CaptureOptions {
    const m = this.machine, c = m.cpu, ram = m.ram;
    // Caches, configuration and the RAM arrays (checkpointed page by page) are not captured.
    const cpuCaches = new Set(['blocks', 'breakpoints', 'cur', 'ram', 'ramView', 'mem', 'interpretOnly', 'jitThreshold', 'blocksCompiled', 'stepLimit', 'fetching', 'rTagLo', 'rTagHi', 'rPhys', 'wTagLo', 'wTagHi', 'wPhys', 'wasm']);
    const ramSkip = new Set(['ram', 'frameFlags', 'high', 'reasons', 'highLogged', 'highWatched', 'onFirstWrite', 'onWatchedAccess', 'onFirstAccess']);
    const skipFields = new Map<object, ReadonlySet<string>>([[c, cpuCaches], [ram, ramSkip], [this.state, new Set(['cause'])]]);
    return { skip: new Set<object>(this.immutableInputs()), skipFields };
  }

  // ---- what subclasses add ------------------------------------------------------------

  /** Large inputs reachable from the run that never change (parsed kernels, symbol tables): not captured. */
  protected immutableInputs(): object[] { return []; }
  /** A breakpoint of the subclass's (internalKeys) was reached: true stops (set state.cause first). */
  protected onInternalBreak(_key: number, _icount: number): boolean { return false; }
  /** Resuming from a stop on a subclass breakpoint: the core skips it once, so do its side effects. */
  protected onInternalPass(_key: number, _icount: number): void {}
  /** After each advance that did not end the run. */
  protected afterAdvance(): void {}
  /** At each slice boundary, before the observers (progress reports). */
  protected onSliceBoundary(): void {}

  // ---- internals ---------------------------------------------------------------------

  protected ended(): RunStop { return { kind: 'end', outcome: this.state.outcome!, reason: this.state.reason }; }

  protected end(outcome: Outcome, reason: string, hang: RunStateBase['hang']): RunStop {
    this.state.outcome = outcome; this.state.reason = reason; this.state.hang = hang;
    return this.ended();
  }

  /** Keep a breakpoint of the subclass's at `addr` (onInternalBreak decides what it does). */
  protected setInternal(addr: bigint): void {
    const key = keyOf(addr);
    if (this.internalKeys.has(key)) return;
    this.internalKeys.add(key);
    if (!this.userBreaks.has(key)) this.installCore(addr);
  }

  private installCore(addr: bigint): void {
    const key = keyOf(addr);
    this.machine.cpu.addBreakpoint(lo32(addr), hi32(addr), (c) => this.onBreak(key, c.icount));
  }

  private onBreak(key: number, icount: number): boolean {
    if (this.internalKeys.has(key) && this.onInternalBreak(key, icount)) return true;
    if (this.userBreaks.has(key)) {
      if (this.collecting) { this.collecting.breaks.push({ icount, address: this.userBreaks.get(key)! }); return false; }
      this.state.cause = { kind: 'breakpoint', address: this.machine.cpu.getRip() };
      return true;
    }
    return false;
  }

  private resumeFromBreak(): void {
    const c = this.machine.cpu, key = keyOf(c.getRip());
    if (!this.internalKeys.has(key) && !this.userBreaks.has(key)) return;
    if (this.internalKeys.has(key)) this.onInternalPass(key, c.icount);
    c.breakpointResume = key;
  }

  private onWatched(addr: number, size: number, write: boolean): void {
    if (!write && this.machine.cpu.fetching) return; // instruction fetch: data watchpoints do not see it, as on hardware
    for (const w of this.watches) {
      if (addr >= w.phys + w.len || addr + size <= w.phys) continue;
      if (w.kind === 'write' && !write) continue;
      if (w.kind === 'read' && write) continue;
      const m = this.machine, c = m.cpu;
      const by = m.ram.externalWriter ?? m.cpuWriter();
      const hit: WatchHit = { watch: w, icount: by.icount, write, addr, size, by };
      if (this.collecting) { this.collecting.watches.push(hit); return; }
      if (this.state.cause === null) this.state.cause = { kind: 'watch', hit };
      c.stopRequested = true;
      c.blockExit = true;
      return;
    }
  }
}

export function keyOf(addr: bigint): number {
  return Number(BigInt.asUintN(52, addr));
}
function lo32(a: bigint): number { return Number(a & 0xffffffffn) | 0; }
function hi32(a: bigint): number { return Number((a >> 32n) & 0xffffffffn) | 0; }
