// The gdb stub's backend: registers, memory and execution of a run (a
// kexec boot or a bare-metal program), as GdbTarget (target.ts) asks. Memory is read
// through the guest's current paging (or physically, `monitor phys on`);
// breakpoints and watchpoints live in the emulator, never in guest memory;
// reverse execution restores the run's checkpoints and re-executes.
import { GPR_NAMES, SEG_NAMES, Seg } from '../../emulator/index.ts';
import type { MachineRun, RunStop, WatchKind } from '../run/machineRun.ts';
import { pageWalk } from '../machine/pageWalk.ts';
import { REGISTERS } from './registers.ts';
import { TargetError, type GdbTarget, type MemoryRegion, type PointType, type ResumeAction, type StopReply } from './target.ts';
import { formatWriter } from './writers.ts';
import { MonitorCommands, type MonitorContext } from './monitor.ts';

/** gdb's signal numbers (its own numbering, used by the remote protocol). */
const SIGTRAP = 5, SIGSEGV = 11, SIGSTOP = 17, SIGXCPU = 24;

export interface BootTargetOptions {
  /** Instructions between turns of the event loop while running (Ctrl-C is seen between them). */
  chunk?: number;
  monitor?: Omit<MonitorContext, 'run' | 'target'>;
}

const u64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); return b; };
const u32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };
const le = (b: Uint8Array) => { let v = 0n; for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!); return v; };

export class BootTarget implements GdbTarget {
  /** m/M/X and Z addresses are physical (monitor phys on) instead of linear. */
  physical = false;
  private interruptRequested = false;
  private resuming = false;
  private last: StopReply = { kind: 'trap' };
  private readonly chunk: number;
  private readonly hwBreaks = new Set<bigint>();
  readonly monitorCommands: MonitorCommands;

  constructor(readonly run: MachineRun, opts: BootTargetOptions = {}) {
    this.chunk = opts.chunk ?? 2_000_000;
    this.monitorCommands = new MonitorCommands({ ...opts.monitor, run, target: this });
  }

  get isRunning(): boolean { return this.resuming; }

  // ---- registers --------------------------------------------------------------------

  readRegister(i: number): Uint8Array {
    const c = this.run.machine.cpu, r = REGISTERS[i];
    if (!r) throw new TargetError(`no register ${i}`);
    const name = r.name;
    const g = GPR_NAMES.indexOf(name);
    if (g >= 0) return u64(c.getReg(g));
    const s = SEG_NAMES.indexOf(name);
    if (s >= 0) return u32(c.segSel[s]! & 0xffff);
    switch (name) {
      case 'rip': return u64(this.pc());
      case 'eflags': return u32(c.getRflags());
      case 'fs_base': return u64(segBase(c, Seg.FS));
      case 'gs_base': return u64(segBase(c, Seg.GS));
      case 'k_gs_base': return u64((BigInt(c.kernelGsBaseHi >>> 0) << 32n) | BigInt(c.kernelGsBaseLo >>> 0));
      case 'cr0': return u64(BigInt(c.cr0 >>> 0));
      case 'cr2': return u64(c.getCr2());
      case 'cr3': return u64(c.getCr3());
      case 'cr4': return u64(BigInt(c.cr4 >>> 0));
      case 'cr8': return u64(BigInt(c.cr8));
      case 'efer': return u64(BigInt(c.efer >>> 0));
      case 'fctrl': return u32(c.fpuControl);
      case 'fstat': return u32(c.fpuStatus);
      case 'ftag': return u32(c.fpuTag);
      case 'mxcsr': return u32(c.mxcsr);
    }
    if (name.startsWith('xmm')) return c.getXmm(Number(name.slice(3)));
    // The core keeps no x87 register stack or instruction pointers (the boot path only resets the FPU): they read as zero.
    return new Uint8Array(r.size);
  }

  writeRegister(i: number, bytes: Uint8Array): void {
    const c = this.run.machine.cpu, r = REGISTERS[i];
    if (!r) throw new TargetError(`no register ${i}`);
    const name = r.name, v = le(bytes);
    const g = GPR_NAMES.indexOf(name);
    if (g >= 0) { c.setReg(g, v); return; }
    if (name.startsWith('xmm')) { c.setXmm(Number(name.slice(3)), bytes); return; }
    switch (name) {
      case 'rip': c.setRip(c.codeBits === 64 ? v : (v - segBase(c, Seg.CS)) & 0xffffffffn); return;
      case 'eflags': c.setRflags(Number(v & 0xffffffffn)); return;
      case 'mxcsr': c.mxcsr = Number(v & 0xffffn); return;
      case 'fs_base': case 'gs_base': {
        const s = name === 'fs_base' ? Seg.FS : Seg.GS;
        c.segBaseLo[s] = Number(v & 0xffffffffn) | 0; c.segBaseHi[s] = Number(v >> 32n) | 0; return;
      }
    }
    throw new TargetError(`${name} cannot be set from gdb (segment selectors and control registers change only through guest instructions)`);
  }

  /** A register by name, as a number (for monitor commands). */
  readRegisterValue(name: string): bigint {
    const i = REGISTERS.findIndex((r) => r.name === name);
    const b = this.readRegister(i);
    return le(b);
  }

  /** The program counter gdb sees: a linear address (CS base + RIP outside 64-bit mode), the address breakpoints and memory reads use. */
  private pc(): bigint {
    const c = this.run.machine.cpu;
    return c.codeBits === 64 ? c.getRip() : (segBase(c, Seg.CS) + (c.getRip() & 0xffffffffn)) & 0xffffffffn;
  }

  // ---- memory -------------------------------------------------------------------------

  /** Guest-physical address of a gdb address, or null where nothing is mapped. */
  toPhys(addr: bigint): number | null {
    if (this.physical) return Number(addr);
    const m = this.run.machine;
    return pageWalk(m.cpu, addr, (a, n) => m.ram.read(a, n)).phys;
  }

  readMemory(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const ram = this.run.machine.ram;
    let k = 0;
    while (k < len) {
      const a = addr + BigInt(k);
      const n = Math.min(len - k, 4096 - Number(a & 0xfffn));
      const p = this.toPhys(a);
      if (p === null || !ram.isRam(p, n)) break;
      out.set(ram.read(p, n), k);
      k += n;
    }
    return out.subarray(0, k);
  }

  writeMemory(addr: bigint, data: Uint8Array): void {
    const ram = this.run.machine.ram;
    const pieces: { phys: number; from: number; n: number }[] = [];
    for (let k = 0; k < data.length;) {
      const a = addr + BigInt(k);
      const n = Math.min(data.length - k, 4096 - Number(a & 0xfffn));
      const p = this.toPhys(a);
      if (p === null || !ram.isRam(p, n)) throw new TargetError(`cannot write at 0x${a.toString(16)}: ${p === null ? 'not mapped' : 'not RAM'}`);
      pieces.push({ phys: p, from: k, n });
      k += n;
    }
    const icount = this.run.icount;
    for (const s of pieces) ram.writeBy(s.phys, data.slice(s.from, s.from + s.n), { kind: 'debugger', icount, what: 'written from gdb' });
    this.run.machine.cpu.flushTlb();
  }

  memoryMap(): MemoryRegion[] {
    const ram = this.run.machine.ram;
    const low = BigInt(ram.ram.length);
    const regions: MemoryRegion[] = [{ start: 0n, length: low, type: 'ram' }];
    if (ram.high) regions.push({ start: 1n << 32n, length: BigInt(ram.high.length), type: 'ram' });
    // The kernel's own mapping (__START_KERNEL_map up), where vmlinux's symbols point once paging is the kernel's.
    regions.push({ start: 0xffffffff80000000n, length: 0x80000000n, type: 'ram' });
    return regions;
  }

  // ---- breakpoints and watchpoints ------------------------------------------------------

  insertPoint(type: PointType, addr: bigint, len: number): boolean {
    if (type === 0 || type === 1) {
      const a = this.physical ? addr : addr; // breakpoints are on linear addresses (identity-mapped early code: the same)
      this.run.addBreakpoint(a);
      if (type === 1) this.hwBreaks.add(a);
      return true;
    }
    const kind: WatchKind = type === 2 ? 'write' : type === 3 ? 'read' : 'access';
    if (len <= 0) throw new TargetError('a watchpoint needs a length');
    const phys = this.toPhys(addr);
    if (phys === null) throw new TargetError(`cannot watch 0x${addr.toString(16)}: not mapped now`);
    const last = this.toPhys(addr + BigInt(len - 1));
    if (last !== phys + len - 1) throw new TargetError(`cannot watch 0x${addr.toString(16)}+${len}: the range is not physically contiguous`);
    this.run.addWatch({ kind, phys, len, addr });
    return true;
  }

  removePoint(type: PointType, addr: bigint, len: number): boolean {
    if (type === 0 || type === 1) { this.hwBreaks.delete(addr); this.run.removeBreakpoint(addr); return true; }
    const kind: WatchKind = type === 2 ? 'write' : type === 3 ? 'read' : 'access';
    this.run.removeWatch(kind, addr, len);
    return true;
  }

  // ---- execution ------------------------------------------------------------------------

  async resume(action: ResumeAction): Promise<StopReply> {
    this.interruptRequested = false;
    this.resuming = true;
    try {
      this.last = await this.execute(action);
      return this.last;
    } finally {
      this.resuming = false;
    }
  }

  private async execute(action: ResumeAction): Promise<StopReply> {
    const run = this.run;
    switch (action) {
      case 'step': return this.reply(run.step(), true);
      case 'reverse-step': {
        if (run.icount <= run.historyBegin) return { kind: 'history', end: 'begin' };
        run.goto(run.icount - 1);
        return { kind: 'trap' };
      }
      case 'reverse-continue': {
        const hit = run.reverseToLastHit();
        if (hit === null) return { kind: 'history', end: 'begin', why: 'no breakpoint or watchpoint before this point: at the beginning of the run' };
        return this.reply(hit, false);
      }
      case 'continue': {
        let first = true;
        for (;;) {
          const s = run.advance(run.icount + this.chunk, first);
          first = false;
          if (s.kind !== 'limit') return this.reply(s, false);
          if (this.interruptRequested) return { kind: 'interrupted' };
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.interruptRequested) return { kind: 'interrupted' };
        }
      }
    }
  }

  private reply(s: RunStop, stepped: boolean): StopReply {
    switch (s.kind) {
      case 'limit': return { kind: 'trap' };
      case 'interrupted': return { kind: 'interrupted' };
      case 'breakpoint': return stepped ? { kind: 'trap' } : { kind: 'breakpoint', hw: this.hwBreaks.has(s.address) };
      case 'watch': {
        const w = s.hit.watch;
        const access = w.kind === 'write' ? 'watch' : w.kind === 'read' ? 'rwatch' : 'awatch';
        const at = w.addr + BigInt(Math.max(0, s.hit.addr - w.phys));
        return { kind: 'watch', access, addr: at, why: `${s.hit.write ? 'written' : 'read'} by ${formatWriter(this.run, s.hit.by)}` };
      }
      case 'end': {
        if (s.outcome === 'exited') return { kind: 'exited', code: (this.run.machine.exitStatus ?? 0) & 0xff, why: `bootpath: ${s.reason}` };
        const why = `bootpath: the run ${s.outcome === 'crashed' ? 'crashed' : s.outcome === 'hung' ? 'hung' : s.outcome === 'budget' ? 'ran out of its instruction budget' : 'reached its target'}: ${s.reason} at instruction ${this.run.icount.toLocaleString('en-US')}`;
        const signal = s.outcome === 'crashed' ? SIGSEGV : s.outcome === 'hung' ? SIGSTOP : s.outcome === 'budget' ? SIGXCPU : SIGTRAP;
        return { kind: 'signal', signal, why };
      }
    }
  }

  interrupt(): void { this.interruptRequested = true; }

  async monitor(command: string): Promise<string> { return this.monitorCommands.run(command); }

  stopReason(): StopReply { return this.last; }

  detach(): void {
    this.run.clearUserPoints();
    this.hwBreaks.clear();
  }

  kill(): void { this.detach(); }
}

function segBase(c: { segBaseLo: Int32Array; segBaseHi: Int32Array }, s: number): bigint {
  return (BigInt(c.segBaseHi[s]! >>> 0) << 32n) | BigInt(c.segBaseLo[s]! >>> 0);
}
