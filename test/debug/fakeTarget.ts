// A small in-memory GdbTarget for the stub's tests: a register file, 64 KiB
// of memory at address 0 (ram below 0xf000, rom above), breakpoints and
// watchpoints kept in a list, and stops either scripted (`stops`) or made up
// from the points: continue goes to the lowest breakpoint, else reports the
// first watchpoint (bumping the watched byte, so gdb sees a change), else
// runs until interrupted; step advances rip by one; reverse execution hits
// the beginning of history. Every call is recorded in `calls`.
import { REGISTERS, registerIndex } from '../../src/debug/registers.ts';
import { TargetError, type GdbTarget, type MemoryRegion, type PointType, type ResumeAction, type StopReply } from '../../src/debug/target.ts';

export const FAKE_MEMORY_SIZE = 0x10000;
export const FAKE_ROM_START = 0xf000;

export interface FakePoint { type: PointType; addr: bigint; len: number }

export class FakeTarget implements GdbTarget {
  readonly regs: Uint8Array[] = REGISTERS.map((r) => new Uint8Array(r.size));
  readonly mem = new Uint8Array(FAKE_MEMORY_SIZE);
  readonly points: FakePoint[] = [];
  readonly calls: string[] = [];
  /** Stops to report, first first, before the made-up ones. */
  readonly stops: StopReply[] = [];
  /** Registers that refuse writes (TargetError). */
  readonly readOnly = new Set<string>();
  /** Point types insertPoint reports as unsupported. */
  readonly unsupportedPoints = new Set<PointType>();
  lastStop: StopReply = { kind: 'trap' };
  private running: ((r: StopReply) => void) | null = null;

  constructor() {
    this.setReg('rip', 0x1000n);
    this.setReg('rsp', 0x8000n);
    this.setReg('rbp', 0x8000n);
    this.setReg('rax', 0x1122334455667788n);
    this.setReg('eflags', 0x246n);
    this.setReg('cs', 0x10n);
    this.setReg('ss', 0x18n);
    this.setReg('cr0', 0x80050033n);
    this.setReg('cr3', 0x3000n);
    this.setReg('cr4', 0x20n);
    this.setReg('efer', 0xd01n);
    this.setReg('mxcsr', 0x1f80n);
    this.regs[registerIndex('xmm0')]!.set([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
    for (let k = 0; k < 0x100; k++) this.mem[0x2000 + k] = k;
    this.mem.fill(0x90, 0x1000, 0x1100); // nops
  }

  reg(name: string): bigint {
    const b = this.regs[registerIndex(name)]!;
    let v = 0n;
    for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
    return v;
  }

  setReg(name: string, v: bigint): void {
    const b = this.regs[registerIndex(name)]!;
    for (let k = 0; k < b.length; k++) { b[k] = Number(v & 0xffn); v >>= 8n; }
  }

  get isRunning(): boolean { return this.running !== null; }

  readRegister(i: number): Uint8Array { return this.regs[i]!.slice(); }

  writeRegister(i: number, bytes: Uint8Array): void {
    const name = REGISTERS[i]!.name;
    this.calls.push(`writeRegister ${name}`);
    if (this.readOnly.has(name)) throw new TargetError(`${name} is read-only here`);
    this.regs[i]!.set(bytes);
  }

  readMemory(addr: bigint, len: number): Uint8Array {
    if (addr >= BigInt(FAKE_MEMORY_SIZE)) return new Uint8Array(0);
    const a = Number(addr);
    return this.mem.slice(a, Math.min(a + len, FAKE_MEMORY_SIZE));
  }

  writeMemory(addr: bigint, data: Uint8Array): void {
    this.calls.push(`writeMemory ${addr.toString(16)} ${data.length}`);
    if (addr + BigInt(data.length) > BigInt(FAKE_ROM_START)) throw new TargetError(`cannot write 0x${addr.toString(16)}: rom or beyond memory`);
    this.mem.set(data, Number(addr));
  }

  resume(action: ResumeAction): Promise<StopReply> {
    this.calls.push(`resume ${action}`);
    if (this.running) return Promise.reject(new Error('resume while running'));
    const scripted = this.stops.shift();
    if (scripted) return Promise.resolve(this.stopped(scripted));
    if (action === 'reverse-step' || action === 'reverse-continue') return Promise.resolve(this.stopped({ kind: 'history', end: 'begin' }));
    if (action === 'step') {
      this.setReg('rip', this.reg('rip') + 1n);
      return Promise.resolve(this.stopped({ kind: 'trap' }));
    }
    const breaks = this.points.filter((p) => p.type <= 1).sort((a, b) => (a.addr < b.addr ? -1 : 1));
    const rip = this.reg('rip');
    const next = breaks.find((p) => p.addr > rip) ?? breaks[0];
    if (next) {
      this.setReg('rip', next.addr);
      return Promise.resolve(this.stopped({ kind: 'breakpoint', hw: next.type === 1 }));
    }
    const watch = this.points.find((p) => p.type >= 2);
    if (watch) {
      if (watch.type !== 3) this.mem[Number(watch.addr)]! += 1;
      const access = watch.type === 2 ? 'watch' : watch.type === 3 ? 'rwatch' : 'awatch';
      return Promise.resolve(this.stopped({ kind: 'watch', access, addr: watch.addr }));
    }
    return new Promise((resolve) => { this.running = (r) => { this.running = null; resolve(this.stopped(r)); }; });
  }

  private stopped(r: StopReply): StopReply { this.lastStop = r; return r; }

  interrupt(): void {
    this.calls.push('interrupt');
    this.running?.({ kind: 'interrupted' });
  }

  insertPoint(type: PointType, addr: bigint, len: number): boolean {
    this.calls.push(`insertPoint ${type} ${addr.toString(16)} ${len}`);
    if (this.unsupportedPoints.has(type)) return false;
    this.points.push({ type, addr, len });
    return true;
  }

  removePoint(type: PointType, addr: bigint, len: number): boolean {
    this.calls.push(`removePoint ${type} ${addr.toString(16)} ${len}`);
    if (this.unsupportedPoints.has(type)) return false;
    const k = this.points.findIndex((p) => p.type === type && p.addr === addr && p.len === len);
    if (k < 0) throw new TargetError(`no point of type ${type} at 0x${addr.toString(16)}`);
    this.points.splice(k, 1);
    return true;
  }

  async monitor(command: string): Promise<string> {
    this.calls.push(`monitor ${command}`);
    if (command === 'foo') return 'foo: first line\nsecond line\n';
    if (command === 'quiet') return '';
    throw new TargetError(`unknown monitor command: ${command}`);
  }

  memoryMap(): MemoryRegion[] {
    return [{ start: 0n, length: BigInt(FAKE_ROM_START), type: 'ram' }, { start: BigInt(FAKE_ROM_START), length: BigInt(FAKE_MEMORY_SIZE - FAKE_ROM_START), type: 'rom' }];
  }

  stopReason(): StopReply { return this.lastStop; }

  detach(): void { this.calls.push('detach'); this.points.length = 0; }

  kill(): void { this.calls.push('kill'); this.points.length = 0; }
}
