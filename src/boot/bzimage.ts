// The bzImage setup header (Documentation/x86/boot.rst): where the 64-bit
// entry is, how much memory the kernel needs, how it may be placed, and where
// the compressed vmlinux (the payload) sits.
import { InputError } from '../errors.ts';
import { detectCompression, type Compression } from './compression.ts';

/** xloadflags bits. */
export const XLF = {
  KERNEL_64: 1 << 0, // has the 64-bit entry at code32_start + 0x200
  CAN_BE_LOADED_ABOVE_4G: 1 << 1,
  EFI_HANDOVER_32: 1 << 2,
  EFI_HANDOVER_64: 1 << 3,
  EFI_KEXEC: 1 << 4,
  FIVE_LEVEL: 1 << 5, // XLF_5LEVEL: can enter with 5-level paging on
  FIVE_LEVEL_ENABLED: 1 << 6, // XLF_5LEVEL_ENABLED: built with 5-level paging support
} as const;

/** loadflags bits. */
export const LOADFLAGS = { LOADED_HIGH: 1 << 0, KASLR: 1 << 1, QUIET: 1 << 5, KEEP_SEGMENTS: 1 << 6, CAN_USE_HEAP: 1 << 7 } as const;

/** Protocol 2.12 added xloadflags (XLF_KERNEL_64); older kernels cannot be entered in 64-bit mode. */
export const MIN_PROTOCOL_64 = 0x020c;

/** The setup header of a bzImage (Documentation/arch/x86/boot.rst), the fields a boot loader reads. */
export interface SetupHeader {
  /** setup_sects: 512-byte sectors of real-mode setup code after the boot sector. */
  setupSects: number;
  /** syssize: the protected-mode code's size in 16-byte paragraphs. */
  syssize: number;
  /** boot_flag: 0xaa55. */
  bootFlag: number;
  /** The boot protocol version, e.g. 0x020f for 2.15. */
  version: number; // e.g. 0x020f for 2.15
  /** The string kernel_version points at ('' if none). */
  kernelVersion: string; // the string kernel_version points at, '' if none
  /** loadflags (LOADFLAGS). */
  loadflags: number;
  /** code32_start: the 32-bit entry's default address. */
  code32Start: number;
  /** initrd_addr_max: the highest address an initrd may end at. */
  initrdAddrMax: number;
  /** kernel_alignment: the physical alignment the kernel needs. */
  kernelAlignment: number;
  /** relocatable_kernel: the kernel may load at another address than pref_address. */
  relocatableKernel: boolean;
  /** min_alignment, as log2: the least alignment the kernel accepts. */
  minAlignment: number; // log2
  /** xloadflags (XLF): the 64-bit entry, loading above 4 GiB, EFI hand-over. */
  xloadflags: number;
  /** cmdline_size: the longest command line, without its NUL. */
  cmdlineSize: number;
  /** payload_offset: where the compressed payload starts, from the start of the protected-mode code. */
  payloadOffset: number; // from the start of the protected-mode code
  /** payload_length: the compressed payload's length. */
  payloadLength: number;
  /** pref_address: where the kernel prefers to be loaded. */
  prefAddress: bigint;
  /** init_size: the memory the kernel needs from its load address until it has set itself up (decompression included). */
  initSize: number;
  /** handover_offset: the EFI hand-over entry. */
  handoverOffset: number;
  /** kernel_info_offset: the kernel_info structure (protocol 2.15). */
  kernelInfoOffset: number;
}

/** A parsed bzImage: its setup header and the compressed payload. */
export interface BzImage {
  /** The file's name in errors. */
  file: string;
  /** The file's size in bytes. */
  size: number;
  /** The setup header. */
  header: SetupHeader;
  /** File offset of the protected-mode code: (setup_sects + 1) * 512. */
  pmOffset: number;
  /** Offset of the 64-bit entry (startup_64) within the protected-mode code. */
  entry64Offset: number;
  /** File offset of the payload. */
  payloadFileOffset: number;
  /** The compressed payload (vmlinux.bin and its relocations). */
  payload: Uint8Array;
  /** The payload's compression, from its magic bytes. */
  compression: Compression;
  /** The whole file. */
  data: Uint8Array;
}

const HDRS = 0x53726448; // "HdrS" read little-endian

/** Parses a bzImage; `file` names it in errors. */
export function parseBzImage(data: Uint8Array, file: string): BzImage {
  const fail = (what: string) => new InputError(`${file}: ${what}`);
  if (data.length < 0x270) {
    if (data.length >= 0x206 && readU32(data, 0x202) !== HDRS) throw fail('not a bzImage (no "HdrS" setup header at 0x202)');
    throw fail(`truncated: ${data.length} bytes, too short to hold a setup header (0x270 bytes)`);
  }
  const u8 = (o: number) => data[o]!;
  const u16 = (o: number) => data[o]! | (data[o + 1]! << 8);
  const u32 = (o: number) => readU32(data, o);
  if (u32(0x202) !== HDRS) throw fail('not a bzImage (no "HdrS" setup header at 0x202)');
  if (u16(0x1fe) !== 0xaa55) throw fail(`not a bzImage (boot_flag at 0x1fe is 0x${u16(0x1fe).toString(16)}, not 0xaa55)`);

  const version = u16(0x206);
  if (version < MIN_PROTOCOL_64) {
    throw fail(`boot protocol ${protocolString(version)} is too old for 64-bit boot (needs ${protocolString(MIN_PROTOCOL_64)}, xloadflags)`);
  }
  const setupSects = u8(0x1f1) || 4; // 0 means 4, for ancient compatibility
  const kvOff = u16(0x20e);
  const header: SetupHeader = {
    setupSects,
    syssize: u32(0x1f4),
    bootFlag: u16(0x1fe),
    version,
    kernelVersion: kvOff ? cString(data, kvOff + 0x200, 256) : '',
    loadflags: u8(0x211),
    code32Start: u32(0x214),
    initrdAddrMax: u32(0x22c),
    kernelAlignment: u32(0x230),
    relocatableKernel: u8(0x234) !== 0,
    minAlignment: u8(0x235),
    xloadflags: u16(0x236),
    cmdlineSize: u32(0x238),
    payloadOffset: u32(0x248),
    payloadLength: u32(0x24c),
    prefAddress: readU64(data, 0x258),
    initSize: u32(0x260),
    handoverOffset: u32(0x264),
    kernelInfoOffset: u32(0x268),
  };
  if (!(header.xloadflags & XLF.KERNEL_64)) throw fail('not a 64-bit kernel (xloadflags lacks XLF_KERNEL_64)');
  if (!(header.loadflags & LOADFLAGS.LOADED_HIGH)) throw fail('not a bzImage (loadflags lacks LOADED_HIGH: a zImage)');

  const pmOffset = (setupSects + 1) * 512;
  const pmEnd = pmOffset + header.syssize * 16;
  if (data.length < pmEnd) throw fail(`truncated: ${data.length} bytes, but the header says the kernel ends at ${pmEnd}`);
  const payloadFileOffset = pmOffset + header.payloadOffset;
  const payloadEnd = payloadFileOffset + header.payloadLength;
  if (header.payloadLength === 0) throw fail('setup header has no payload (payload_length is 0)');
  if (payloadEnd > data.length) throw fail(`truncated: payload ends at ${payloadEnd} but the file has ${data.length} bytes`);
  const payload = data.subarray(payloadFileOffset, payloadEnd);
  const compression = detectCompression(payload);
  if (!compression) {
    const head = [...payload.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw fail(`payload at offset 0x${payloadFileOffset.toString(16)} has unknown compression magic ${head}`);
  }
  return {
    file,
    size: data.length,
    header,
    pmOffset,
    entry64Offset: 0x200,
    payloadFileOffset,
    payload,
    compression,
    data,
  };
}

export function protocolString(version: number): string {
  return `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
}

function readU32(d: Uint8Array, o: number): number {
  return (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
}

function readU64(d: Uint8Array, o: number): bigint {
  return BigInt(readU32(d, o)) | (BigInt(readU32(d, o + 4)) << 32n);
}

function cString(d: Uint8Array, o: number, max: number): string {
  let end = o;
  while (end < d.length && end < o + max && d[end] !== 0) end++;
  return new TextDecoder('latin1').decode(d.subarray(o, end));
}
