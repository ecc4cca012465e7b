// `bootpath inspect <bzImage> [--json]`: everything the host can tell about a
// kernel image without running it — setup header, payload, the vmlinux inside
// and its symbols from kallsyms.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Command } from './commands.ts';
import { jsonDocument } from './json.ts';
import { InputError, UsageError } from './errors.ts';
import { parseBzImage, protocolString, XLF, LOADFLAGS, type BzImage } from '../boot/bzimage.ts';
import { decompressPayload, type Payload } from '../boot/payload.ts';
import { readVmlinux, type Vmlinux } from '../boot/vmlinux.ts';
import { findKallsyms, type Kallsyms } from '../boot/kallsyms.ts';

const KEY_SYMBOLS = ['startup_64', 'secondary_startup_64', 'x86_64_start_kernel', 'start_kernel', 'phys_base', 'xen_hvm_guest_init'];

export const inspect: Command = {
  name: 'inspect',
  summary: 'show a bzImage: setup header, payload, vmlinux segments, kallsyms',
  async run(args) {
    const json = args.includes('--json');
    const files = args.filter((a) => a !== '--json');
    const unknown = files.find((a) => a.startsWith('-'));
    if (unknown) throw new UsageError(`unknown option '${unknown}' (usage: bootpath inspect <bzImage> [--json])`);
    if (files.length !== 1) throw new UsageError('expected one bzImage (usage: bootpath inspect <bzImage> [--json])');
    const report = inspectFile(files[0]!);
    process.stdout.write(json ? jsonDocument('inspect', report) : formatReport(report));
    return 0;
  },
};

export interface InspectReport {
  file: string;
  size: number;
  sha256: string;
  header: BzImage['header'] & { protocol: string; xloadflagNames: string[]; loadflagNames: string[] };
  layout: { pmOffset: number; entry32Offset: number; entry64Offset: number; payloadFileOffset: number };
  payload: { compression: string; compressedSize: number; decompressedSize: number; elfSize: number; relocs?: { relocs64: number; inverse32: number; relocs32: number } };
  vmlinux: { entry: bigint; segments: { vaddr: bigint; paddr: bigint; offset: number; filesz: number; memsz: number; flags: string }[] };
  kallsyms: { found: false; error: string } | { found: true; count: number; relativeBase: bigint; absolutePercpu: boolean; tables: Kallsyms['at']; keySymbols: Record<string, bigint | null> };
}

export function inspectFile(file: string): InspectReport {
  let data: Uint8Array;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const bz = parseBzImage(data, file);
  const payload: Payload = decompressPayload(bz);
  const vm: Vmlinux = readVmlinux(payload.elf, `${file} (decompressed payload)`);
  let kallsyms: InspectReport['kallsyms'];
  try {
    const k = findKallsyms(payload.elf);
    const keySymbols: Record<string, bigint | null> = {};
    for (const name of KEY_SYMBOLS) keySymbols[name] = k.symbols.find((s) => s.name === name)?.address ?? null;
    kallsyms = { found: true, count: k.symbols.length, relativeBase: k.relativeBase, absolutePercpu: k.absolutePercpu, tables: k.at, keySymbols };
  } catch (e) {
    kallsyms = { found: false, error: (e as Error).message };
  }
  const h = bz.header;
  return {
    file,
    size: bz.size,
    sha256: createHash('sha256').update(data).digest('hex'),
    header: { ...h, protocol: protocolString(h.version), xloadflagNames: flagNames(h.xloadflags, XLF), loadflagNames: flagNames(h.loadflags, LOADFLAGS) },
    layout: { pmOffset: bz.pmOffset, entry32Offset: bz.pmOffset, entry64Offset: bz.pmOffset + bz.entry64Offset, payloadFileOffset: bz.payloadFileOffset },
    payload: {
      compression: bz.compression,
      compressedSize: bz.payload.length,
      decompressedSize: payload.decompressed.length,
      elfSize: payload.elf.length,
      ...(payload.relocs && {
        relocs: { relocs64: payload.relocs.relocs64.length, inverse32: payload.relocs.inverse32.length, relocs32: payload.relocs.relocs32.length },
      }),
    },
    vmlinux: {
      entry: vm.entry,
      segments: vm.segments.map((s) => ({
        vaddr: s.vaddr,
        paddr: s.paddr,
        offset: s.offset,
        filesz: s.filesz,
        memsz: s.memsz,
        flags: (s.flags.r ? 'R' : '-') + (s.flags.w ? 'W' : '-') + (s.flags.x ? 'X' : '-'),
      })),
    },
    kallsyms,
  };
}

function flagNames(value: number, table: Record<string, number>): string[] {
  return Object.entries(table)
    .filter(([, bit]) => value & bit)
    .map(([name]) => name);
}


const hex = (n: number | bigint) => '0x' + n.toString(16);

export function formatReport(r: InspectReport): string {
  const h = r.header;
  const lines = [
    `${r.file}: ${r.size} bytes, sha256 ${r.sha256}`,
    `  kernel version   ${h.kernelVersion || '(none)'}`,
    `  boot protocol    ${h.protocol}`,
    `  setup_sects      ${h.setupSects} (protected-mode code at file offset ${hex(r.layout.pmOffset)})`,
    `  entries          32-bit at +0x0, 64-bit at +0x200 (file offsets ${hex(r.layout.entry32Offset)}, ${hex(r.layout.entry64Offset)})`,
    `  loadflags        ${hex(h.loadflags)} ${h.loadflagNames.join(' ')}`,
    `  xloadflags       ${hex(h.xloadflags)} ${h.xloadflagNames.join(' ')}`,
    `  relocatable      ${h.relocatableKernel ? 'yes' : 'no'}, kernel_alignment ${hex(h.kernelAlignment)}, min_alignment 2^${h.minAlignment}`,
    `  pref_address     ${hex(h.prefAddress)}`,
    `  init_size        ${hex(h.initSize)} (${(h.initSize / 1048576).toFixed(1)} MiB)`,
    `  cmdline_size     ${h.cmdlineSize}, initrd_addr_max ${hex(h.initrdAddrMax)}`,
    `  handover_offset  ${hex(h.handoverOffset)}, kernel_info_offset ${hex(h.kernelInfoOffset)}`,
    `payload: ${r.payload.compression}, ${r.payload.compressedSize} bytes at file offset ${hex(r.layout.payloadFileOffset)} (payload_offset ${hex(h.payloadOffset)})`,
    `  decompressed     ${r.payload.decompressedSize} bytes = vmlinux ELF ${r.payload.elfSize} + relocs ${r.payload.decompressedSize - r.payload.elfSize}`,
  ];
  if (r.payload.relocs) {
    const x = r.payload.relocs;
    lines.push(`  relocations      ${x.relocs64} 64-bit, ${x.inverse32} inverse 32-bit, ${x.relocs32} 32-bit`);
  }
  lines.push(`vmlinux: entry ${hex(r.vmlinux.entry)}`);
  lines.push('  PT_LOAD  vaddr               paddr       filesz     memsz      flags');
  for (const s of r.vmlinux.segments) {
    lines.push(`           ${hex(s.vaddr).padEnd(19)} ${hex(s.paddr).padEnd(11)} ${hex(s.filesz).padEnd(10)} ${hex(s.memsz).padEnd(10)} ${s.flags}`);
  }
  const k = r.kallsyms;
  if (!k.found) {
    lines.push(`kallsyms: not found (${k.error})`);
  } else {
    lines.push(`kallsyms: ${k.count} symbols, relative base ${hex(k.relativeBase)}${k.absolutePercpu ? ', absolute per-cpu' : ''}`);
    lines.push(`  tables at payload offsets: names ${hex(k.tables.names)}, token_table ${hex(k.tables.tokenTable)}, token_index ${hex(k.tables.tokenIndex)}`);
    for (const [name, addr] of Object.entries(k.keySymbols)) lines.push(`  ${name.padEnd(22)} ${addr === null ? '(absent)' : hex(addr)}`);
  }
  return lines.join('\n') + '\n';
}
