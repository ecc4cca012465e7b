// The machine a kexec boot runs on: guest RAM with write attribution, the
// legacy devices on the port bus (16550, 8254, 8259 pair, CMOS/RTC, port
// 0x80, VGA), a Xen HVM CPUID, a seeded RNG, the event scheduler on the
// virtual clock, and a CPU with exception delivery installed.
import { Cpu, Stop, installSystem, type SystemEvents, type CpuidModel } from '../../emulator/index.ts';
import { TrackedRam } from './trackedRam.ts';
import { Ports } from './ports.ts';
import { Uart16550 } from './uart16550.ts';
import { Pit8254 } from './pit8254.ts';
import { Pic8259Pair } from './pic8259.ts';
import { CmosRtc } from './cmosRtc.ts';
import { PostPort } from './postPort.ts';
import { VgaPorts, renderTextScreen } from './vga.ts';
import { SeededRandom } from './rng.ts';
import { EventScheduler, runWithEvents } from './clock.ts';
import { xenHvmCpuid } from './xenCpuid.ts';
import type { WriteRecord } from './provenance.ts';
import { cpuWriteRecord } from './cpuWriter.ts';
import { wasmMachineFor, type JitBackend } from './jit.ts';

/** A Xen HVM guest's RAM stops below the MMIO hole at 0xF0000000 and continues at 4 GiB (libxc's HVM_BELOW_4G_RAM_END; the loader's e820 agrees). */
export const XEN_HVM_LOW_RAM_END = 0xf0000000;

export interface BootMachineOptions {
  /** RAM size in bytes (default 1 GiB). */
  ramSize?: number;
  /** Seed for RDRAND/RDSEED and anything else random. */
  seed?: number;
  /** Each byte the UART transmits. */
  serial?: (byte: number) => void;
  cpuid?: CpuidModel;
  /** RTC time at instruction 0, seconds since 1970 (default 2012-07-20 12:00 UTC, the bug report's week). */
  epochSeconds?: number;
  /** The block compiler (default 'wasm'; 'js' when the RAM below the MMIO hole does not fit a WebAssembly.Memory, which it always does here). */
  jit?: JitBackend;
}

export class BootMachine {
  readonly ram: TrackedRam;
  readonly ports = new Ports();
  readonly uart: Uart16550;
  readonly pit: Pit8254;
  readonly pic = new Pic8259Pair();
  readonly cmos: CmosRtc;
  readonly post = new PostPort();
  readonly vga = new VgaPorts();
  readonly cpu: Cpu;
  readonly events: SystemEvents;
  readonly scheduler: EventScheduler;
  private readonly serialBytes: number[] = [];
  /** Set by the first `run`: from then on RAM may hold what the CPU stored (loadZeros must store zeros). */
  private cpuHasRun = false;

  constructor(opts: BootMachineOptions = {}) {
    const ramSize = opts.ramSize ?? 1 << 30;
    // The fast-path RAM (below the hole) goes in the Wasm backend's memory, which the Cpu's registers and TLB share.
    const wasm = wasmMachineFor(opts.jit, Math.min(ramSize, XEN_HVM_LOW_RAM_END));
    this.ram = new TrackedRam(ramSize, XEN_HVM_LOW_RAM_END, wasm?.ram);
    this.uart = new Uart16550(0x3f8, (b) => { this.serialBytes.push(b); opts.serial?.(b); });
    this.cpu = new Cpu({ memory: this.ram, ports: this.ports, cpuid: opts.cpuid ?? xenHvmCpuid(), random: new SeededRandom(opts.seed ?? 0), ...(wasm !== null ? { wasm } : {}) });
    const clock = { now: () => this.cpu.preciseIcount() }; // exact inside a block too (a device read by in/out)
    this.scheduler = new EventScheduler(clock);
    this.pit = new Pit8254(clock);
    this.cmos = new CmosRtc(clock, opts.epochSeconds ?? Date.UTC(2012, 6, 20, 12, 0, 0) / 1000);
    this.ports.register(0x3f8, 8, this.uart);
    this.ports.register(0x40, 4, this.pit);
    this.ports.register(0x20, 2, this.pic);
    this.ports.register(0xa0, 2, this.pic);
    this.ports.register(0x70, 2, this.cmos);
    this.ports.register(0x80, 1, this.post);
    this.ports.register(0x3c0, 0x20, this.vga);
    this.ports.register(0x3b4, 2, this.vga);
    this.ports.register(0x3ba, 1, this.vga);
    this.events = installSystem(this.cpu);
    this.ram.currentCpuWriter = () => this.cpuWriter();
    this.ram.onExternalWrite = (addr, len) => this.cpu.notifyPhysicalWrite(addr, len);
  }

  /** The record for a write by the instruction executing now. */
  cpuWriter(): WriteRecord { return cpuWriteRecord(this.cpu); }

  /** Write bytes as the loader (kexec's segments, the hand-off page tables). */
  load(addr: number, bytes: Uint8Array, what: string): void {
    this.ram.writeBy(addr, bytes, { kind: 'loader', icount: this.cpu.icount, what });
  }

  /**
   * Write `len` zeros as the loader (a segment's zero fill). Before the CPU has run, RAM the loader has not written is
   * zero already and is left untouched (no host page faults for what the guest may never use).
   */
  loadZeros(addr: number, len: number, what: string): void {
    const who: WriteRecord = { kind: 'loader', icount: this.cpu.icount, what };
    if (this.cpuHasRun || this.cpu.icount !== 0) this.ram.writeBy(addr, new Uint8Array(len), who);
    else this.ram.zeroBy(addr, len, who);
  }

  /** Track writes to the frames covering [addr, addr+len). */
  trackRange(addr: number, len: number): void {
    for (let f = Math.floor(addr / 4096); f * 4096 < addr + len; f++) this.ram.track(f);
    this.cpu.flushTlb();
  }

  /** Bytes the UART has transmitted so far. */
  get serialLength(): number { return this.serialBytes.length; }

  get serialText(): string { return Buffer.from(this.serialBytes).toString('latin1'); }

  get vgaText(): string[] { return renderTextScreen((a, n) => this.ram.read(a, n)); }

  /** Run up to `budget` instructions, running scheduled events at their instruction counts. */
  run(budget: number): Stop {
    this.cpuHasRun = true;
    return runWithEvents(this.cpu, this.scheduler, budget);
  }

}
