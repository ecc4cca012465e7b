// planKexecLoad: what `kexec -l bzImage --command-line=...` (kexec-tools
// 2.0.25, kexec_load syscall) would hand the kernel in a Xen HVM guest, as
// data — the segments, purgatory's entry, and the CPU/memory state the old
// kernel's relocate_kernel leaves when it jumps there.
import { readFileSync } from 'node:fs';
import { InputError } from '../../errors.ts';
import { parseBzImage } from '../bzimage.ts';
import type { FirstKernelInfo } from './bootParams.ts';
import { parseElfRel } from './elfRel.ts';
import { buildHandoff, type HandoffState } from './handoff.ts';
import { bzImage64Probe, loadBzImage64, readRegs32, readRegs64, type KernelPlacement, type LoadResult, type Regs32, type Regs64 } from './loadBzImage64.ts';
import { loadBzImage32 } from './loadBzImage32.ts';
import { e820TypeName, GiB, kexecMemoryRanges, xenHvmE820, type MemoryRange } from './memoryMap.ts';
import { SegmentTable, type Segment } from './placement.ts';
import { BUNDLED_PURGATORY } from './purgatory.ts';
import { KEXEC_CONSOLE_DEFAULTS, updatePurgatory, type PurgatoryConsole, type PurgatoryDigest } from './updatePurgatory.ts';

/** The inputs of a kexec load plan: kexec's command line, and what it reads from the running system. */
export interface KexecLoadOptions {
  /** The bzImage: its bytes or a path. */
  kernel: Uint8Array | string;
  /** Names the kernel in errors and the summary when `kernel` is bytes. */
  kernelName?: string;
  /** purgatory.o (ET_REL x86-64): a path or bytes. Default: the bundled Debian 2.0.25 purgatory. */
  purgatory?: string | Uint8Array;
  /** The command line (kexec's --command-line / --append). Default ''. */
  cmdline?: string;
  /** Guest RAM for the default Xen HVM memory map. Default 1 GiB. */
  ramSize?: number;
  /** A firmware e820 to use instead of the Xen HVM one (end inclusive). */
  memoryMap?: MemoryRange[];
  /** 64: bzImage64 (kexec's default); 32: --entry-32bit. Default 64. */
  entry?: 64 | 32;
  /** Kernel placement: 'kexec' (top-down for 64, bottom-up for 32), a direction, or { address }. Default 'kexec'. */
  placement?: KernelPlacement;
  /** Override the setup header's kernel_alignment. */
  kernelAlignment?: number;
  /** kexec-tools ≥ 2.0.30 behaviour: the 64-bit kernel's hole starts at pref_address. Default false. */
  honourPrefAddress?: boolean;
  /** Purgatory prints to the 16550 at serialBase. Default **true** (kexec's default is false). */
  consoleSerial?: boolean;
  /** Purgatory prints to VGA text memory. Default false (as kexec). */
  consoleVga?: boolean;
  /** --reset-vga: purgatory resets the VGA. Default false. */
  resetVga?: boolean;
  /** --serial: the I/O base of purgatory's UART. Default 0x3f8. */
  serialBase?: number;
  /** --serial-baud: 0 leaves the divisor as it is (kexec's default). */
  serialBaud?: number;
  /** kexec -i / --no-checks: no sha256, skip_checks = 1. Default false. */
  skipChecks?: boolean;
  /** The old kernel ran 5-level paging. Default false. */
  la57?: boolean;
  /** 1 GiB pages in the identity map (direct_gbpages). Default true. */
  gbpages?: boolean;
  /** Where the hand-off page tables and control page go. Default: lowest free pages ≥ 1 MiB. */
  handoffBase?: number;
  /** What kexec reads from the running kernel. */
  first?: FirstKernelInfo;
}

/** A kexec segment of the plan. */
export interface PlanSegment extends Segment {
  /** Bytes of the buffer kexec passes (the rest of `memsz` is zero). */
  bufsz: number;
}

/** What kexec would load, and the state relocate_kernel hands to purgatory (planKexecLoad). */
export interface LoadPlan {
  /** The kernel's file name (or kernelName for bytes). */
  kernelFile: string;
  /** The purgatory's file name. */
  purgatoryFile: string;
  /** The entry path used: 64 (bzImage64) or 32 (also when a 64-bit load was asked of a kernel that cannot). */
  entryPath: 64 | 32;
  /** The firmware's e820 (what /sys/firmware/memmap shows). */
  firmwareMap: MemoryRange[];
  /** kexec's memory ranges: the firmware map with RAM starting at 0x400; also the e820 passed in boot_params. */
  memoryRanges: MemoryRange[];
  /** The segments in address order, as passed to kexec_load. */
  segments: PlanSegment[];
  /** kexec_load's entry: purgatory_start. */
  entry: number;
  /** Purgatory: where it was linked, its sections, and its symbols at their load addresses. */
  purgatory: { base: number; memsz: number; bufsz: number; sections: { name: string; addr: number; size: number }[]; symbols: Record<string, number> };
  /** The kernel segment: base, sizes, startup_32 and startup_64, init_size, alignment. */
  kernel: { base: number; memsz: number; bufsz: number; startup32: number; startup64: number; initSize: number; alignment: number };
  /** boot_params (the zero page) and the command line: where, and their bytes. */
  bootParams: { base: number; cmdlineAddr: number; cmdline: string; bytes: Uint8Array };
  /** entry64_regs: the registers purgatory loads before jumping to the kernel's 64-bit entry. */
  entry64Regs: Regs64;
  /** entry32_regs: the same for the 32-bit entry. */
  entry32Regs: Regs32;
  /** Address of the command line's last byte (purgatory's cmdline_end). */
  cmdlineEnd: number;
  /** Purgatory's console settings. */
  console: PurgatoryConsole;
  /** null with skipChecks. */
  sha256: PurgatoryDigest | null;
  /** relocate_kernel's exit state: registers and the identity-map page tables purgatory starts with. */
  handoff: HandoffState;
  /** Where the plan departs from a plain kexec, in words. */
  notes: string[];
  /** What `kexec -d` would print about the load, plus our hand-off. */
  summary: string;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

function readInput(what: string, v: string | Uint8Array, name: string): { bytes: Uint8Array; file: string } {
  if (typeof v !== 'string') return { bytes: v, file: name };
  try {
    return { bytes: new Uint8Array(readFileSync(v)), file: v };
  } catch (e) {
    throw new InputError(`${v}: cannot read ${what}: ${(e as Error).message}`);
  }
}

/**
 * Plan a kexec load as kexec-tools 2.0.25 does (kexec_load, not
 * kexec_file_load): the segments and their placement, purgatory linked and its
 * variables set, boot_params, the sha256 regions and digest, and
 * relocate_kernel's hand-off state. Writes nothing. Throws InputError for an
 * unreadable or malformed kernel or purgatory.
 */
export function planKexecLoad(opts: KexecLoadOptions): LoadPlan {
  const k = readInput('kernel', opts.kernel, opts.kernelName ?? 'kernel');
  const pg = readInput('purgatory', opts.purgatory ?? BUNDLED_PURGATORY, 'purgatory');
  const bz = parseBzImage(k.bytes, k.file);
  const purgatoryObj = parseElfRel(pg.bytes, pg.file);
  const firmwareMap = opts.memoryMap ?? xenHvmE820({ ramSize: opts.ramSize ?? 1 * GiB });
  const ranges = kexecMemoryRanges(firmwareMap);
  const table = new SegmentTable(ranges);
  const notes: string[] = [];
  let entryPath = opts.entry ?? 64;
  if (entryPath === 64 && !bzImage64Probe(bz)) {
    notes.push(`${bz.file} lacks XLF_CAN_BE_LOADED_ABOVE_4G: kexec's bzImage64 probe fails and it loads the image with the 32-bit entry`);
    entryPath = 32;
  }
  const console: PurgatoryConsole = {
    ...KEXEC_CONSOLE_DEFAULTS,
    consoleSerial: opts.consoleSerial ?? true,
    consoleVga: opts.consoleVga ?? false,
    resetVga: opts.resetVga ?? false,
    serialBase: opts.serialBase ?? 0x3f8,
    serialBaud: opts.serialBaud ?? 0,
  };
  if (console.consoleSerial) notes.push('console_serial = 1 (bootpath default; kexec needs --console-serial): purgatory prints "I\'m in purgatory" on the UART');
  if (opts.first?.rngSeed === undefined) notes.push('RNG seed setup_data: a fixed seed stands in for getrandom()');
  const inputs = {
    bz,
    purgatory: purgatoryObj,
    cmdline: opts.cmdline ?? '',
    ranges,
    table,
    placement: opts.placement ?? 'kexec',
    kernelAlignment: opts.kernelAlignment,
    honourPrefAddress: opts.honourPrefAddress,
    first: opts.first ?? {},
  };
  const r: LoadResult = entryPath === 64 ? loadBzImage64(inputs) : loadBzImage32(inputs);
  notes.push(...r.notes);
  const sorted = table.sorted();
  const sha256 = updatePurgatory(r.purgatory, sorted, console, opts.skipChecks ?? false);
  const p = r.purgatory;
  const handoff = buildHandoff(p.entry, ranges, sorted, { la57: opts.la57, gbpages: opts.gbpages, base: opts.handoffBase });
  const segments = sorted.map((s) => ({ ...s, bufsz: s.bytes.length }));
  const plan: LoadPlan = {
    kernelFile: bz.file,
    purgatoryFile: pg.file,
    entryPath,
    firmwareMap: firmwareMap.map((m) => ({ ...m })),
    memoryRanges: ranges,
    segments,
    entry: p.entry,
    purgatory: {
      base: p.base,
      memsz: table.segments.find((s) => s.name === 'purgatory')!.memsz,
      bufsz: p.bytes.length,
      sections: purgatoryObj.sections.filter((s) => p.sectionAddress.has(s.index)).map((s) => ({ name: s.name, addr: p.sectionAddress.get(s.index)!, size: s.size })),
      symbols: p.symbols(),
    },
    kernel: { base: r.kernel.mem, memsz: r.kernel.memsz, bufsz: r.kernel.bytes.length, startup32: r.kernel.mem, startup64: r.kernel.mem + bz.entry64Offset, initSize: bz.header.initSize, alignment: opts.kernelAlignment ?? bz.header.kernelAlignment },
    bootParams: { base: r.setup.mem, cmdlineAddr: r.setup.mem + r.layout.cmdlineOffset, cmdline: opts.cmdline ?? '', bytes: r.setup.bytes },
    entry64Regs: readRegs64(p),
    entry32Regs: readRegs32(p),
    cmdlineEnd: r.cmdlineEnd,
    console,
    sha256,
    handoff,
    notes,
    summary: '',
  };
  plan.summary = summarize(plan);
  return plan;
}

/** A human-readable account of the plan, in the spirit of `kexec -d`. */
export function summarize(plan: LoadPlan): string {
  const out: string[] = [];
  out.push(`kexec load plan: ${plan.kernelFile} (${plan.entryPath}-bit entry), purgatory ${plan.purgatoryFile}`);
  out.push('MEMORY RANGES');
  for (const r of plan.memoryRanges) out.push(`  ${hex16(r.start)}-${hex16(r.end)} (${e820TypeName(r.type)})`);
  out.push(`Loaded purgatory at addr ${hex(plan.purgatory.base)}`);
  out.push(`Loaded real_mode_data and command line at ${hex(plan.bootParams.base)}`);
  out.push(`kernel init_size ${hex(plan.kernel.initSize)}`);
  out.push(`Loaded ${plan.entryPath === 64 ? '64bit' : '32bit'} kernel at ${hex(plan.kernel.base)}`);
  out.push(`kexec_load: entry = ${hex(plan.entry)} flags = 0x3e0000`);
  out.push(`nr_segments = ${plan.segments.length}`);
  plan.segments.forEach((s, i) => {
    out.push(`segment[${i}].bufsz = ${hex(s.bufsz)}`);
    out.push(`segment[${i}].mem   = ${hex(s.mem)}`);
    out.push(`segment[${i}].memsz = ${hex(s.memsz)}    (${s.name})`);
  });
  const regs = plan.entryPath === 64 ? plan.entry64Regs : plan.entry32Regs;
  out.push(`entry${plan.entryPath}_regs: ` + Object.entries(regs).filter(([, v]) => BigInt(v) !== 0n).map(([n, v]) => `${n}=${hex(v)}`).join(' '));
  out.push(`cmdline_end = ${hex(plan.cmdlineEnd)}; console_serial=${plan.console.consoleSerial ? 1 : 0} console_vga=${plan.console.consoleVga ? 1 : 0}`);
  if (plan.sha256) out.push(`sha256_digest = ${Buffer.from(plan.sha256.digest).toString('hex')} over ${plan.sha256.regions.map((r) => `${hex(r.start)}+${hex(r.len)}`).join(', ')}`);
  else out.push('skip_checks = 1 (no sha256)');
  const h = plan.handoff;
  out.push(`hand-off: rip=${hex(h.rip)} rsp=${hex(h.regs.rsp)} rflags=${hex(h.rflags)} cr0=${hex(h.cr0)} cr3=${hex(h.cr3)} cr4=${hex(h.cr4)} efer=${hex(h.efer)} cs=${hex(h.cs.selector)} ds=${hex(h.ds.selector)} gdtr=idtr=0/0`);
  out.push(`hand-off pages: ${hex(h.region.start)}-${hex(h.region.end - 1)} (${h.pageTables.levels}-level identity map, ${h.pageTables.pages.length} table pages, control page ${hex(h.controlPage)})`);
  for (const n of plan.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

const hex16 = (n: number) => n.toString(16).padStart(16, '0');
