// The minimal machine: guest RAM, a port bus with a 16550 UART at 0x3f8 and
// QEMU's isa-debug-exit at 0xf4, a seeded RNG, and a CPU with exception
// delivery installed. run() drives the CPU to an outcome. The kexec machine
// extends this (e820, PIT, PIC, CMOS, VGA, write attribution).
import { Cpu, Stop, installSystem, captureState, formatState, type SystemEvents, type CpuState, type TripleFaultEvent, type CpuidModel } from '../../emulator/index.ts';
import { TrackedRam } from './trackedRam.ts';
import { cpuWriteRecord } from './cpuWriter.ts';
import type { WriteRecord } from './provenance.ts';
import { Ports } from './ports.ts';
import { Uart16550 } from './uart16550.ts';
import { DebugExit } from './debugExit.ts';
import { SeededRandom } from './rng.ts';
import { EventScheduler, runWithEvents } from './clock.ts';
import { machineCpuid } from './cpuid.ts';
import { wasmMachineFor, type JitBackend } from './jit.ts';

export interface MachineOptions {
  /** RAM size in bytes (default 64 MiB). */
  ramSize?: number;
  /** Seed of RDRAND/RDSEED. */
  seed?: number;
  /** Called with each byte the UART transmits. */
  serial?: (byte: number) => void;
  cpuid?: CpuidModel;
  /** The block compiler (default 'wasm', or 'js' when the RAM does not fit a WebAssembly.Memory; jit.ts). */
  jit?: JitBackend;
}

/** How a run ended. */
export type Outcome =
  | { kind: 'exit'; status: number; state: CpuState }
  | { kind: 'triple-fault'; event: TripleFaultEvent; state: CpuState }
  | { kind: 'halt'; state: CpuState }
  | { kind: 'budget'; state: CpuState }
  | { kind: 'fault'; detail: string; state: CpuState }
  | { kind: 'runaway'; state: CpuState };

export class Machine {
  /** RAM whose frames can be write-tracked (a debugger's who-wrote); nothing is tracked unless asked. */
  readonly ram: TrackedRam;
  readonly ports = new Ports();
  readonly uart: Uart16550;
  readonly debugExit: DebugExit;
  readonly cpu: Cpu;
  readonly events: SystemEvents;
  /** Events on the virtual clock (tests schedule device or hypervisor writes here). */
  readonly scheduler: EventScheduler;

  constructor(opts: MachineOptions = {}) {
    const ramSize = opts.ramSize ?? 64 * 1024 * 1024;
    const wasm = wasmMachineFor(opts.jit, ramSize);
    this.ram = new TrackedRam(ramSize, ramSize, wasm?.ram);
    this.uart = new Uart16550(0x3f8, opts.serial);
    this.ports.register(0x3f8, 8, this.uart);
    this.cpu = new Cpu({ memory: this.ram, ports: this.ports, cpuid: opts.cpuid ?? machineCpuid, random: new SeededRandom(opts.seed ?? 0), ...(wasm !== null ? { wasm } : {}) });
    this.debugExit = new DebugExit(0xf4, () => { this.cpu.stopRequested = true; });
    this.ports.register(0xf4, 4, this.debugExit);
    this.events = installSystem(this.cpu);
    this.scheduler = new EventScheduler({ now: () => this.cpu.icount });
    this.ram.currentCpuWriter = () => this.cpuWriter();
    this.ram.onExternalWrite = (addr, len) => this.cpu.notifyPhysicalWrite(addr, len);
  }

  /** The record for a write by the instruction executing now. */
  cpuWriter(): WriteRecord { return cpuWriteRecord(this.cpu); }

  get serialLength(): number { return this.uart.length; }

  /** The status the guest exited with (isa-debug-exit), or null. */
  get exitStatus(): number | null { return this.debugExit.status; }

  /** Run up to `budget` instructions (a run's slice: the exit port ends it with Stop.Requested). */
  runSlice(budget: number): Stop { return runWithEvents(this.cpu, this.scheduler, budget); }

  /** Run until the guest exits, shuts down, halts with nothing to wake it, or `maxInstructions` retire. */
  run(maxInstructions: number): Outcome {
    const c = this.cpu;
    const end = c.icount + maxInstructions;
    for (;;) {
      const left = end - c.icount;
      if (left <= 0) return { kind: 'budget', state: captureState(c) };
      const stop = c.run(Math.min(left, 1 << 24));
      if (this.debugExit.status !== null) return { kind: 'exit', status: this.debugExit.status, state: captureState(c) };
      switch (stop) {
        case Stop.TripleFault: return { kind: 'triple-fault', event: this.events.tripleFault!, state: captureState(c) };
        case Stop.Halt: return { kind: 'halt', state: captureState(c) }; // no interrupt sources yet: a halt is final
        case Stop.Fault: return { kind: 'fault', detail: c.lastFault?.message ?? 'fault', state: captureState(c) };
        case Stop.Runaway: return { kind: 'runaway', state: captureState(c) };
        case Stop.Requested: return { kind: 'budget', state: captureState(c) };
        default: break;
      }
    }
  }
}

/** A report of an outcome for humans (stderr of the CLI, test messages). */
export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'exit': return `guest exited with status ${o.status}\n`;
    case 'triple-fault': {
      const e = o.event;
      const chain = e.chain.map((f) => `  #${f.vector}${f.errorCode >= 0 ? `(0x${f.errorCode.toString(16)})` : ''}${f.detail ? `: ${f.detail}` : ''}`).join('\n');
      return `triple fault at rip 0x${e.rip.toString(16)}${e.instruction ? ` (${e.instruction})` : ''}\nexceptions:\n${chain}\n${formatState(e.state)}`;
    }
    case 'halt': return `CPU halted with nothing to wake it (hang)\n${formatState(o.state)}`;
    case 'budget': return `instruction budget exhausted\n${formatState(o.state)}`;
    case 'fault': return `undelivered fault: ${o.detail}\n${formatState(o.state)}`;
    case 'runaway': return `runaway: the CPU ran into zero-filled memory (thousands of \`add %al,(%rax)\`): a jump into nowhere\n${formatState(o.state)}`;
  }
}
