// The inputs of one boot, worked out before a machine exists: the bzImage
// parsed, kexec's load plan, symbols, and its payload decompressed on the
// host (the image oracle); and the loader's writes that turn a fresh machine
// into the one relocate_kernel hands to purgatory. What comes from the
// payload — the image, and kallsyms when there is no symbol file — is not
// needed before the guest's decompressor runs: it is worked out on a worker
// thread meanwhile (payloadJob.ts) and waited for when first used.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { planKexecLoad, type LoadPlan, type KexecLoadOptions } from '../boot/kexec/index.ts';
import { parseBzImage } from '../boot/bzimage.ts';
import type { Payload } from '../boot/payload.ts';
import { DeferredPayload, kallsymsTable } from '../boot/payloadJob.ts';
import { readVmlinux, type Vmlinux } from '../boot/vmlinux.ts';
import { kallsymsSymbols, symbolFile, symbolsFromFile, type KernelSymbols } from '../boot/kernelSymbols.ts';
import { applyHandoff } from '../boot/applyHandoff.ts';
import { bundledDecompressorElf } from '../boot/bundled.ts';
import { decompressorSymbols } from '../boot/decompressorLayout.ts';
import type { BootMachine } from '../machine/bootMachine.ts';
import type { JitBackend } from '../machine/jit.ts';
import type { MachineSnapshot } from '../machine/snapshot.ts';
import type { BootContext, Phase } from '../boot/phases.ts';

/** The kernel command line of a boot that names none: the console and early printk on the first serial port. */
export const DEFAULT_CMDLINE = 'console=ttyS0,115200 earlyprintk=serial,ttyS0,115200';
/** The instruction budget of a boot that names none (4 billion): the run ends there as 'budget'. */
export const DEFAULT_BUDGET = 4_000_000_000;

/** What to boot and how: the options of `bootKexec` and `BootRun`. Only `kernel` is required. */
export interface BootOptions {
  /** The bzImage: a path or its bytes. */
  kernel: string | Uint8Array;
  /** Names the kernel in messages (default: its path, or 'kernel' for bytes). */
  kernelName?: string;
  /**
   * The kernel's vmlinux, for symbols. Default: a vmlinux or System.map beside the bzImage, else kallsyms decoded from the
   * payload.
   */
  vmlinux?: string;
  /** The kernel's System.map, for symbols when there is no vmlinux. */
  systemMap?: string;
  /** kexec-tools' purgatory.o to load. Default: the bundled one (Debian kexec-tools 2.0.25). */
  purgatory?: string;
  /**
   * The decompressor's ELF (arch/x86/boot/compressed/vmlinux), to name its code in reports. Default: the one bundled
   * beside a bundled bzImage; null: none.
   */
  decompressorElf?: string | null;
  /**
   * kexec's entry path: 64, the bzImage64 loader (kexec's default), or 32, the legacy 32-bit entry through startup_32.
   * Default 64.
   */
  entry?: 64 | 32;
  /** The new kernel's command line (default DEFAULT_CMDLINE). */
  cmdline?: string;
  /** Guest RAM in bytes, a multiple of 4 KiB (default 1 GiB). */
  ramSize?: number;
  /**
   * Stop here: a kernel symbol, 'startup_64' (the decompressor's jump into
   * the new kernel), or an address. Default x86_64_start_kernel; null: no
   * target (a debugger drives the run).
   */
  until?: string | bigint | null;
  /** The instruction budget: the run ends as 'budget' when the virtual clock reaches it (default DEFAULT_BUDGET). */
  maxInstructions?: number;
  /** Seed of the machine's RNG (RDRAND/RDSEED), hence of the decompressor's KASLR choice (default 0). */
  seed?: number;
  /**
   * false: run every instruction in the interpreter, the block compiler off — the same run (same instruction counts,
   * state and memory), slower; a way to check the compiler. Default true.
   */
  compile?: boolean;
  /**
   * The block compiler: 'wasm' (WebAssembly, faster) or 'js'. Default 'wasm' (js when the RAM below 4 GiB cannot fit in
   * one WebAssembly.Memory). Both give the same run: same instruction counts, state and memory.
   */
  jit?: JitBackend;
  /**
   * Where kexec puts the kernel: 'kexec' (top-down for entry 64, bottom-up
   * for 32), 'top-down', 'bottom-up' or `{ address }`. Default 'kexec'.
   */
  placement?: KexecLoadOptions['placement'];
  /** Override the setup header's kernel_alignment (bytes). */
  kernelAlignment?: number;
  /** Called with each byte the guest writes to the serial port. */
  serial?: (byte: number) => void;
  /** Called every `progressEvery` instructions with where the run is. */
  progress?: (p: Progress) => void;
  /** How often `progress` is called, in instructions (default 50M). */
  progressEvery?: number;
  /** Changes to make to guest RAM after loading, before the run (tests of purgatory's checksum, scenarios). */
  patch?: (m: BootMachine, plan: LoadPlan) => void;
  /** Set up before the run (the Xen shim attaches here). */
  prepare?: (m: BootMachine, plan: LoadPlan, ctx: BootContext) => void;
  /** Called on the new machine before anything is loaded (the Xen shim installs here: kexec's copy went through Xen's mapping). */
  beforeLoad?: (m: BootMachine, plan: LoadPlan) => void;
  /** The parsed kernel and load plan from prepareKexec (sweeps reuse them; `kernel`, `entry`, … are then ignored). */
  prepared?: PreparedKexec;
  /** Load by restoring this snapshot (src/machine/snapshot.ts, taken after loading) instead of writing the plan's segments. */
  snapshot?: MachineSnapshot;
}

/** Where a run is, for progress reports. */
export interface Progress {
  /** Instructions retired so far. */
  instructions: number;
  /** The boot's phase now. */
  phase: Phase;
  /** The instruction pointer. */
  rip: bigint;
}

/**
 * What a boot works out before it builds a machine: the bzImage parsed, its payload, symbols and kexec's load plan.
 * `payload`, `elf` and (from kallsyms) `symbols` are worked out on a worker thread while the boot starts: reading one
 * waits for it, and throws InputError for a payload that does not decompress.
 */
export interface PreparedKexec {
  /** The kernel's name in messages. */
  readonly kernelName: string;
  /** The bzImage's payload decompressed on the host: the vmlinux ELF and its relocations. */
  readonly payload: Payload;
  /** The vmlinux ELF from the payload (the image check's reference). */
  readonly elf: Vmlinux;
  /** The new kernel's symbols and where they came from. */
  readonly symbols: KernelSymbols;
  /** kexec's load plan. */
  readonly plan: LoadPlan;
  /** The decompressor's ELF (`BootOptions.decompressorElf`, or the one bundled beside a bundled bzImage), when known. */
  readonly decompressor: Vmlinux | null;
}

/**
 * Parse the bzImage, read symbols, plan kexec's load and start decompressing its payload: what a boot works out before
 * it has a machine. Runs of the same kernel can share it (`BootOptions.prepared`). Throws InputError on bad inputs (a
 * payload that does not decompress: when the payload is first used). `worker: false` does the payload's work on this
 * thread, when first used.
 */
export function prepareKexec(opts: BootOptions, how: { worker?: boolean } = {}): PreparedKexec {
  const kernelName = opts.kernelName ?? (typeof opts.kernel === 'string' ? opts.kernel : 'kernel');
  const bytes = kernelBytes(opts.kernel);
  const bz = parseBzImage(bytes, kernelName);
  const file = symbolFile({ vmlinux: opts.vmlinux, systemMap: opts.systemMap, kernelPath: typeof opts.kernel === 'string' ? opts.kernel : undefined });
  const fileSymbols = file ? symbolsFromFile(file) : null;
  const plan = planKexecLoad({
    kernel: bytes, kernelName, purgatory: opts.purgatory, cmdline: opts.cmdline ?? DEFAULT_CMDLINE,
    ramSize: opts.ramSize, entry: opts.entry, placement: opts.placement, kernelAlignment: opts.kernelAlignment,
  });
  const decompressor = decompressorElfOf(opts);
  // Started last: every input error above comes before a worker exists.
  const payload = new DeferredPayload({ payload: bz.payload, compression: bz.compression, file: bz.file, kallsyms: file === null },
    how.worker ?? process.env.BOOTPATH_PAYLOAD_WORKER !== '0');
  return new Prepared(kernelName, plan, decompressor, payload, fileSymbols);
}

/** A PreparedKexec whose payload parts are worked out when first read. */
class Prepared implements PreparedKexec {
  private payloadParts: { payload: Payload; elf: Vmlinux } | null = null;
  private kernelSymbols: KernelSymbols | null = null;

  constructor(
    readonly kernelName: string, readonly plan: LoadPlan, readonly decompressor: Vmlinux | null,
    private readonly deferred: DeferredPayload, private readonly fileSymbols: KernelSymbols | null,
  ) {}

  get payload(): Payload { return this.parts().payload; }
  get elf(): Vmlinux { return this.parts().elf; }

  get symbols(): KernelSymbols {
    if (this.kernelSymbols) return this.kernelSymbols;
    const symbols = this.fileSymbols ?? kallsymsSymbols(kallsymsTable(this.deferred.answer().kallsyms!));
    const decSymbols = this.decompressor ? decompressorSymbols(this.plan, this.elf, this.decompressor) : undefined;
    return (this.kernelSymbols = decSymbols ? { ...symbols, decompressor: decSymbols } : symbols);
  }

  private parts(): { payload: Payload; elf: Vmlinux } {
    if (this.payloadParts) return this.payloadParts;
    const payload = this.deferred.answer().payload;
    return (this.payloadParts = { payload, elf: readVmlinux(payload.elf, `${this.kernelName} (payload)`) });
  }
}

/** The decompressor's ELF a boot names, or the one bundled beside a bundled bzImage; null when there is none. */
function decompressorElfOf(opts: BootOptions): Vmlinux | null {
  const file = opts.decompressorElf !== undefined ? opts.decompressorElf : typeof opts.kernel === 'string' ? bundledDecompressorElf(opts.kernel) : null;
  if (!file) return null;
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(file)); } catch (e) { throw new InputError(`${file}: cannot read the decompressor ELF: ${(e as Error).message}`); }
  return readVmlinux(bytes, file);
}

/**
 * The kernel file's bytes, read into shared memory: the payload worker (DeferredPayload) is handed the payload in
 * them as they are, where a copy of several MB would cost this thread its page faults on the way to the first
 * guest instruction.
 */
function kernelBytes(k: string | Uint8Array): Uint8Array {
  if (typeof k !== 'string') return k;
  try {
    const fd = openSync(k, 'r');
    try {
      const b = new Uint8Array(new SharedArrayBuffer(fstatSync(fd).size));
      let n = 0;
      for (let r; n < b.length && (r = readSync(fd, b, n, b.length - n, n)) > 0;) n += r;
      return n === b.length ? b : b.subarray(0, n);
    } finally { closeSync(fd); }
  } catch (e) { throw new InputError(`${k}: cannot read kernel: ${(e as Error).message}`); }
}

/** The ranges kexec's loader writes, in its order (as loadPlan writes them). */
export function loadedRanges(plan: LoadPlan): { addr: number; len: number; what: string }[] {
  const out: { addr: number; len: number; what: string }[] = [];
  for (const s of plan.segments) {
    out.push({ addr: s.mem, len: s.bytes.length, what: `kexec segment: ${s.name}` });
    if (s.memsz > s.bytes.length) out.push({ addr: s.mem + s.bytes.length, len: s.memsz - s.bytes.length, what: `kexec segment: ${s.name} (zero fill)` });
  }
  for (const b of plan.handoff.memory) out.push({ addr: b.addr, len: b.bytes.length, what: `hand-off: ${b.what}` });
  return out;
}

/** Write kexec's segments and the hand-off memory, and load relocate_kernel's exit state. */
export function loadPlan(m: BootMachine, plan: LoadPlan): void {
  for (const s of plan.segments) {
    m.load(s.mem, s.bytes, `kexec segment: ${s.name}`);
    if (s.memsz > s.bytes.length) m.loadZeros(s.mem + s.bytes.length, s.memsz - s.bytes.length, `kexec segment: ${s.name} (zero fill)`);
  }
  for (const b of plan.handoff.memory) m.load(b.addr, b.bytes, `hand-off: ${b.what}`);
  applyHandoff(m.cpu, plan.handoff);
}
