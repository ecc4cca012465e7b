// A bare-metal multiboot program as a run a debugger can drive (`bootpath
// multiboot --gdb`): the minimal machine, the program loaded as QEMU's
// -kernel would, the guest's exit port ending the run, and the program's
// own ELF symbols naming addresses.
import { InputError } from '../errors.ts';
import { Machine } from '../machine/machine.ts';
import { loadMultibootImage, enterMultiboot, MultibootError } from '../boot/multiboot.ts';
import { readVmlinux } from '../boot/vmlinux.ts';
import { SymbolTable } from '../boot/symbolTable.ts';
import type { Stop } from '../../emulator/index.ts';
import type { WriteRecord } from '../machine/provenance.ts';
import type { TrackedRam } from '../machine/trackedRam.ts';
import { HangObserver } from './hang.ts';
import { MachineRun, SerialGate, type RunMachine } from './machineRun.ts';

/** The minimal machine seen as a run's machine. */
class MinimalMachine implements RunMachine {
  constructor(readonly m: Machine) {}
  get cpu() { return this.m.cpu; }
  get ram(): TrackedRam { return this.m.ram; }
  get serialLength(): number { return this.m.serialLength; }
  get exitStatus(): number | null { return this.m.exitStatus; }
  run(budget: number): Stop { return this.m.runSlice(budget); }
  cpuWriter(): WriteRecord { return this.m.cpuWriter(); }
}

export interface MultibootRunOptions {
  /** The program's ELF bytes and its name for messages. */
  elf: Uint8Array;
  file: string;
  ramSize?: number;
  maxInstructions?: number;
  serial?: (byte: number) => void;
}

export class MultibootRun extends MachineRun<MinimalMachine> {
  readonly file: string;
  readonly symbols: SymbolTable;

  constructor(o: MultibootRunOptions) {
    const gate = new SerialGate(o.serial);
    const m = new Machine({ ramSize: o.ramSize ?? 128 << 20, serial: o.serial ? gate.sink : undefined });
    try {
      enterMultiboot(m.cpu, m.ram, loadMultibootImage(m.ram, o.elf));
    } catch (e) {
      if (e instanceof MultibootError || e instanceof RangeError) throw new InputError(`${o.file}: ${e.message}`);
      throw e;
    }
    super(new MinimalMachine(m), { budget: o.maxInstructions ?? 1e9, sliceEvery: 50_000_000, observers: [new HangObserver()], gate }, {});
    this.file = o.file;
    let symbols = new SymbolTable([]);
    try { symbols = new SymbolTable(readVmlinux(o.elf, o.file).symbols); } catch { /* a program without a readable symbol table: addresses stay hex */ }
    this.symbols = symbols;
  }

  override describe(addr: bigint): string {
    return this.symbols.size ? this.symbols.describe(addr) : `0x${addr.toString(16)}`;
  }

  protected override immutableInputs(): object[] { return [this.symbols]; }
}
