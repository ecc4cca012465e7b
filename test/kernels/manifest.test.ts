// The bundled kernels and purgatory match kernels/manifest.json byte for byte;
// the decompressor ELFs belong to their bzImages and carry the symbols a
// debugger needs; the markers-2012 kernel has the reporter's markers.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readVmlinux, findSymbol, type Vmlinux } from '../../src/boot/vmlinux.ts';
import { parseBzImage } from '../../src/boot/bzimage.ts';
import {
  BUNDLED_KERNEL,
  BUNDLED_KERNEL_DIR,
  COMPRESSIONS,
  MARKERS_KERNEL,
  MARKERS_KERNEL_DIR,
  bundledDecompressorElf,
} from '../../src/boot/bundled.ts';

const kernelsDir = fileURLToPath(new URL('../../kernels/', import.meta.url));
type Section = {
  dir: string;
  source: { package: string; version: string };
  configSha256?: string;
  variant?: { name: string; fragment: string; patch: string; patchSha256: string };
  files: Record<string, { size: number; sha256: string }>;
};
const manifest = JSON.parse(readFileSync(kernelsDir + 'manifest.json', 'utf8')) as Record<string, Section>;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('kernels/manifest.json', () => {
  it('lists the tiny kernels, the markers-2012 kernel and the purgatory', () => {
    expect(Object.keys(manifest).sort()).toEqual(['purgatory', 'tiny-6.1', 'tiny-6.1-markers']);
    expect(manifest['tiny-6.1']!.source.package).toBe('linux-source-6.1');
    expect(manifest['purgatory']!.source.package).toBe('kexec-tools');
    const files = Object.keys(manifest['tiny-6.1']!.files);
    for (const c of COMPRESSIONS) expect(files).toEqual(expect.arrayContaining([`bzImage.${c}`, `decompressor.${c}.elf`]));
    expect(files).toEqual(expect.arrayContaining(['vmlinux', 'System.map', 'config']));
    expect(manifest['tiny-6.1']!.configSha256).toBe(manifest['tiny-6.1']!.files['config']!.sha256);
  });

  it('records the markers-2012 variant: same source, its fragment and patch', () => {
    const m = manifest['tiny-6.1-markers']!;
    expect(m.source).toEqual(manifest['tiny-6.1']!.source);
    expect(Object.keys(m.files).sort()).toEqual(['System.map', 'bzImage.gzip', 'config', 'decompressor.gzip.elf', 'vmlinux']);
    expect(m.configSha256).toBe(m.files['config']!.sha256);
    expect(m.variant!.name).toBe('markers-2012');
    expect(m.variant!.patchSha256).toBe(sha256(readFileSync(kernelsDir + '../' + m.variant!.patch)));
    readFileSync(kernelsDir + '../' + m.variant!.fragment);
  });

  describe.each(Object.entries(manifest))('%s', (_name, section) => {
    it('has exactly the files the manifest lists', () => {
      expect(readdirSync(kernelsDir + section.dir).sort()).toEqual(Object.keys(section.files).sort());
    });
    it.each(Object.entries(section.files))('%s matches its size and sha256', (file, want) => {
      const data = readFileSync(`${kernelsDir}${section.dir}/${file}`);
      expect(data.length).toBe(want.size);
      expect(sha256(data)).toBe(want.sha256);
    });
  });
});

/** Section headers of an ELF64 file, read directly (elfy's types leave out the address). */
function sectionHeaders(buf: Buffer) {
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      nameOff: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      addr: Number(buf.readBigUInt64LE(o + 0x10)),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
    };
  });
  const strs = raw[shstrndx]!;
  return raw.map((s) => {
    const start = strs.offset + s.nameOff;
    return { ...s, name: buf.toString('latin1', start, buf.indexOf(0, start)) };
  });
}

// 6.1.192's misc.c: extract_kernel -> decompress_kernel, into which gcc inlines
// the static __decompress, parse_elf and handle_relocations (no symbols of their
// own); the deepest named function of each format's decoder:
const DECODER: Record<string, string> = {
  gzip: 'zlib_inflate',
  bzip2: 'get_next_block',
  lzma: 'rc_get_bit',
  xz: 'xz_dec_run',
  lzo: 'lzo1x_decompress_safe',
  lz4: 'LZ4_decompress_safe',
  zstd: 'zstd_decompress_dctx',
};
const decompressorElfs = [
  ...COMPRESSIONS.map((c) => ['tiny-6.1', c] as const),
  ['tiny-6.1-markers', 'gzip'] as const,
];

describe.each(decompressorElfs)('%s/decompressor.%s.elf', (bundle, comp) => {
  const elfPath = `${kernelsDir}${bundle}/decompressor.${comp}.elf`;
  const bzPath = `${kernelsDir}${bundle}/bzImage.${comp}`;
  it('is an x86-64 ELF with the decompressor symbols and without the compressed kernel', () => {
    const buf = readFileSync(elfPath);
    const elf = readVmlinux(new Uint8Array(buf), elfPath);
    expect(buf.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    const names = new Set(elf.symbols.map((s) => s.name));
    for (const s of ['startup_32', 'startup_64', '_ehead', 'extract_kernel', 'decompress_kernel', DECODER[comp]!, 'z_input_len', 'z_output_len'])
      expect(names, s).toContain(s);
    expect(findSymbol(elf, 'startup_32')).toBe(0n);
    expect(findSymbol(elf, 'startup_64')).toBe(0x200n);
    const sections = sectionHeaders(buf).map((s) => s.name);
    expect(sections).toEqual(expect.arrayContaining(['.head.text', '.text', '.rodata', '.data', '.symtab']));
    expect(sections).not.toContain('.rodata..compressed');
    const bz = parseBzImage(new Uint8Array(readFileSync(bzPath)), bzPath);
    expect(buf.length).toBeLessThan(bz.header.payloadLength / 4);
    // input_data went with the section; it is _ehead (the header's payload_offset is ZO_input_data).
    expect(findSymbol(elf, '_ehead')).toBe(BigInt(bz.header.payloadOffset));
    expect(findSymbol(elf, 'z_input_len')).toBe(BigInt(bz.header.payloadLength));
  });

  it("holds the bzImage's own decompressor: code and data equal the protected-mode image", () => {
    const buf = readFileSync(elfPath);
    const bz = parseBzImage(new Uint8Array(readFileSync(bzPath)), bzPath);
    const pm = Buffer.from(bz.data.subarray(bz.pmOffset));
    const loaded = sectionHeaders(buf).filter((s) => ['.head.text', '.text', '.rodata', '.data'].includes(s.name));
    expect(loaded).toHaveLength(4);
    for (const s of loaded) {
      // The image ends with .data, whose last 4 bytes the bzImage builder
      // (arch/x86/boot/tools/build.c) fills with the file's CRC32.
      const size = s.name === '.data' ? s.size - 4 : s.size;
      if (s.name === '.data') expect(s.addr + s.size, 'the image ends with .data').toBe(pm.length);
      expect(buf.subarray(s.offset, s.offset + size).equals(pm.subarray(s.addr, s.addr + size)), s.name).toBe(true);
    }
  });
});

/** The bytes of vmlinux at a virtual address, from the PT_LOAD segment holding it. */
function bytesAt(vm: Vmlinux, vaddr: bigint, len: number): Buffer {
  const seg = vm.segments.find((s) => vaddr >= s.vaddr && vaddr + BigInt(len) <= s.vaddr + BigInt(s.filesz))!;
  const o = Number(vaddr - seg.vaddr);
  return Buffer.from(seg.data.subarray(o, o + len));
}

describe('tiny-6.1-markers', () => {
  const dir = `${kernelsDir}tiny-6.1-markers/`;
  let vmlinux: Vmlinux | undefined;
  const vm = () => (vmlinux ??= readVmlinux(new Uint8Array(readFileSync(dir + 'vmlinux')), 'vmlinux'));
  const sym = (n: string) => {
    const v = findSymbol(vm(), n);
    expect(v, n).toBeDefined();
    return v!;
  };

  it('has the 2012 layout around phys_base: 5555 4444 3333 2222 1111, 0x90 padding, phys_base, 9999 8888 7777', () => {
    const pb = sym('phys_base');
    expect(pb % 16n).toBe(0n);
    const layout: [string | null, bigint][] = [
      ['minus5', 0x5555555555555555n],
      ['minus4', 0x4444444444444444n],
      ['minus3', 0x3333333333333333n],
      ['minus2', 0x2222222222222222n],
      ['minus1', 0x1111111111111111n],
      [null, 0x9090909090909090n], // the .p2align 4, 0x90 before phys_base, as ENTRY() made it in 2012
      ['phys_base', 0n],
      ['plus1', 0x9999999999999999n],
      ['plus2', 0x8888888888888888n],
      ['plus3', 0x7777777777777777n],
    ];
    const start = pb - 48n;
    const bytes = bytesAt(vm(), start, layout.length * 8);
    layout.forEach(([name, value], i) => {
      if (name) expect(sym(name), name).toBe(start + BigInt(8 * i));
      expect(bytes.readBigUInt64LE(8 * i), name ?? 'padding').toBe(value);
    });
  });

  it('startup_64 begins with RIP-relative loads of r9..r15 from minus3..minus1, phys_base, plus1..plus3', () => {
    const entry = sym('startup_64');
    const code = bytesAt(vm(), entry, 7 * 7);
    const sources = ['minus3', 'minus2', 'minus1', 'phys_base', 'plus1', 'plus2', 'plus3'];
    sources.forEach((source, i) => {
      // movq disp32(%rip), %r(9+i): REX.WR 8b, modrm 00 reg 101
      const at = 7 * i;
      expect([code[at], code[at + 1], code[at + 2]], `r${9 + i}`).toEqual([0x4c, 0x8b, 0x05 | (((9 + i) & 7) << 3)]);
      const target = entry + BigInt(at + 7) + BigInt(code.readInt32LE(at + 3));
      expect(target, `r${9 + i}`).toBe(sym(source));
    });
  });

  it('differs from tiny-6.1 in its config only by the verbose decompressor', () => {
    const lines = (f: string) => new Set(readFileSync(f, 'utf8').split('\n'));
    const tiny = lines(`${kernelsDir}tiny-6.1/config`);
    const markers = lines(dir + 'config');
    expect([...markers].filter((l) => !tiny.has(l))).toEqual(['CONFIG_X86_VERBOSE_BOOTUP=y']);
    expect([...tiny].filter((l) => !markers.has(l))).toEqual(['# CONFIG_X86_VERBOSE_BOOTUP is not set']);
  });
});

describe('bundled.ts', () => {
  it('maps a bundled bzImage to its decompressor ELF, anything else to null', () => {
    expect(bundledDecompressorElf(BUNDLED_KERNEL)).toBe(`${BUNDLED_KERNEL_DIR}/decompressor.gzip.elf`);
    for (const c of COMPRESSIONS)
      expect(bundledDecompressorElf(`${kernelsDir}tiny-6.1/bzImage.${c}`)).toBe(`${BUNDLED_KERNEL_DIR}/decompressor.${c}.elf`);
    expect(bundledDecompressorElf(MARKERS_KERNEL)).toBe(`${MARKERS_KERNEL_DIR}/decompressor.gzip.elf`);
    expect(bundledDecompressorElf(`${MARKERS_KERNEL_DIR}/bzImage.xz`)).toBeNull(); // gzip only
    expect(bundledDecompressorElf(`${BUNDLED_KERNEL_DIR}/vmlinux`)).toBeNull();
    expect(bundledDecompressorElf('/tmp/elsewhere/bzImage.gzip')).toBeNull();
    expect(bundledDecompressorElf(`${kernelsDir}purgatory/bzImage.gzip`)).toBeNull();
  });
});
