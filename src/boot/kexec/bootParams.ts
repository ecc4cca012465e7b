// The boot_params ("zero page") + command line segment as kexec-tools 2.0.25
// builds it (kexec/arch/x86_64/kexec-bzImage64.c do_bzImage64_load and
// kexec/arch/i386/x86-linux-setup.c): a zeroed buffer of
// max(kern16_size, 4096) + cmdline_len + PURGATORY_CMDLINE_SIZE (64) bytes,
// the setup header copied in (0x1f1 .. 0x202 + kernel[0x201], at most 0x7f
// bytes), the command line at offset kern16_size_needed, then what
// setup_linux_bootloader_parameters_high and setup_linux_system_parameters
// write. Offsets follow include/x86/x86-linux.h (struct
// x86_linux_param_header), which matches Linux's struct boot_params.
import { createHash } from 'node:crypto';
import { InputError } from '../../errors.ts';
import type { BzImage } from '../bzimage.ts';
import { E820, type MemoryRange } from './memoryMap.ts';
import { PAGE_SIZE, ADDR_MAX, type SegmentTable } from './placement.ts';

/** Field offsets in boot_params that kexec writes. */
export const BP = {
  ORIG_X: 0x00,
  ORIG_Y: 0x01,
  EXT_MEM_K: 0x02,
  ORIG_VIDEO_PAGE: 0x04,
  ORIG_VIDEO_MODE: 0x06,
  ORIG_VIDEO_COLS: 0x07,
  ORIG_VIDEO_EGA_BX: 0x0a,
  ORIG_VIDEO_LINES: 0x0e,
  ORIG_VIDEO_ISVGA: 0x0f,
  ORIG_VIDEO_POINTS: 0x10,
  CL_MAGIC: 0x20,
  CL_OFFSET: 0x22,
  APM_BIOS_INFO: 0x40, // 0x14 bytes
  ACPI_RSDP_ADDR: 0x70,
  DRIVE_INFO: 0x80, // 32 bytes
  SYS_DESC_TABLE: 0xa0,
  EXT_RAMDISK_IMAGE: 0xc0,
  EXT_RAMDISK_SIZE: 0xc4,
  EXT_CMD_LINE_PTR: 0xc8,
  EFI_INFO: 0x1c0,
  ALT_MEM_K: 0x1e0,
  E820_ENTRIES: 0x1e8,
  EDDBUF_ENTRIES: 0x1e9,
  EDD_MBR_SIG_BUF_ENTRIES: 0x1ea,
  SETUP_SECTS: 0x1f1,
  ROOT_FLAGS: 0x1f2, // kexec: mount_root_rdonly
  ROOT_DEV: 0x1fc,
  BOOT_FLAG: 0x1fe,
  AUX_DEVICE_INFO: 0x1ff, // kexec's name for the high byte of boot_flag
  HEADER: 0x202,
  VERSION: 0x206,
  TYPE_OF_LOADER: 0x210,
  LOADFLAGS: 0x211,
  RAMDISK_IMAGE: 0x218,
  RAMDISK_SIZE: 0x21c,
  CMD_LINE_PTR: 0x228,
  KERNEL_ALIGNMENT: 0x230,
  CMDLINE_SIZE: 0x238,
  HARDWARE_SUBARCH: 0x23c,
  SETUP_DATA: 0x250,
  PREF_ADDRESS: 0x258,
  INIT_SIZE: 0x260,
  E820_TABLE: 0x2d0,
} as const;

export const E820_MAX = 128;
export const E820_ENTRY_SIZE = 20;
/** kexec's PURGATORY_CMDLINE_SIZE: room after the command line for purgatory to append " kexec_jump_back_entry=0x...". */
export const PURGATORY_CMDLINE_SIZE = 64;
/** kexec's COMMAND_LINE_SIZE: it truncates longer command lines (after the cmdline_size check). */
export const COMMAND_LINE_SIZE = 2048;
export const CL_MAGIC_VALUE = 0xa33f;
/** LOADER_TYPE_KEXEC << 4. */
export const TYPE_OF_LOADER_KEXEC = 0xd0;
export const SETUP_RNG_SEED = 9;

export interface BootParamsLayout {
  /** (setup_sects + 1) * 512. */
  kern16Size: number;
  /** max(kern16Size, 4096): where the command line starts in the segment. */
  cmdlineOffset: number;
  /** The command line as bytes, NUL-terminated (kexec's command_line_len = strlen + 1). */
  cmdline: Uint8Array;
  /** The whole segment buffer size. */
  setupSize: number;
}

/** Checks the command line against the kernel's cmdline_size the way kexec does, and sizes the segment. */
export function bootParamsLayout(bz: BzImage, cmdline: string): BootParamsLayout {
  const text = new TextEncoder().encode(cmdline);
  if (text.includes(0)) throw new InputError(`command line: contains a NUL byte`);
  const bytes = new Uint8Array(text.length + 1);
  bytes.set(text);
  // kexec compares strlen + 1 with cmdline_size, so the longest accepted line is cmdline_size - 1 characters.
  if (bytes.length > bz.header.cmdlineSize) {
    throw new InputError(`command line: ${text.length} bytes is too long for ${bz.file} (cmdline_size ${bz.header.cmdlineSize} allows ${bz.header.cmdlineSize - 1})`);
  }
  const kern16Size = bz.pmOffset;
  const cmdlineOffset = Math.max(kern16Size, 4096);
  return { kern16Size, cmdlineOffset, cmdline: bytes, setupSize: cmdlineOffset + bytes.length + PURGATORY_CMDLINE_SIZE };
}

/** The zeroed segment buffer with only the setup header copied in (kexec: "only copy setup_header"). */
export function newRealModeBuffer(bz: BzImage, layout: BootParamsLayout): Uint8Array {
  const rm = new Uint8Array(layout.setupSize);
  const headerSize = Math.min(bz.data[0x201]! + 0x202 - 0x1f1, 0x7f);
  rm.set(bz.data.subarray(0x1f1, 0x1f1 + headerSize), 0x1f1);
  return rm;
}

/** setup_linux_bootloader_parameters_high without an initrd. */
export function setupBootloaderParameters(rm: Uint8Array, setupBase: number, layout: BootParamsLayout): void {
  const dv = view(rm);
  rm[BP.TYPE_OF_LOADER] = TYPE_OF_LOADER_KEXEC;
  rm[BP.LOADFLAGS] = 0; // kexec's "loader_flags = 0": LOADED_HIGH, CAN_USE_HEAP ... all cleared
  dv.setUint32(BP.RAMDISK_IMAGE, 0, true);
  dv.setUint32(BP.RAMDISK_SIZE, 0, true);
  dv.setUint16(BP.CL_MAGIC, CL_MAGIC_VALUE, true);
  dv.setUint16(BP.CL_OFFSET, layout.cmdlineOffset & 0xffff, true);
  const version = dv.getUint16(BP.VERSION, true);
  if (version >= 0x0202) {
    const ptr = setupBase + layout.cmdlineOffset;
    dv.setUint32(BP.CMD_LINE_PTR, ptr % 2 ** 32, true);
    if (version >= 0x020c && ptr >= 2 ** 32) dv.setUint32(BP.EXT_CMD_LINE_PTR, Math.floor(ptr / 2 ** 32), true);
  }
  const len = Math.min(layout.cmdline.length, COMMAND_LINE_SIZE);
  rm.set(layout.cmdline.subarray(0, len), layout.cmdlineOffset);
  rm[layout.cmdlineOffset + len - 1] = 0;
}

/** Values kexec would read from the running (first) kernel; a model has no running kernel, so these are inputs. */
export interface FirstKernelInfo {
  /** boot_params.hdr.hardware_subarch of the first kernel (0 = X86_SUBARCH_PC for an HVM guest). */
  hardwareSubarch?: number;
  /** boot_params.acpi_rsdp_addr of the first kernel (0 unless its boot loader set it; no EFI here). */
  acpiRsdpAddr?: bigint;
  /**
   * The first kernel's screen_info (boot_params 0x00-0x3f), which kexec copies from
   * /sys/kernel/boot_params/data when /dev/fb0 is not a VESA/EFI framebuffer. When
   * absent we keep kexec's own defaults (80x25 VGA text), i.e. as if that read failed.
   */
  screenInfo?: Uint8Array;
  /**
   * 32 bytes of seed for the SETUP_RNG_SEED setup_data that kexec 2.0.25 passes
   * (from getrandom); null to omit it (what kexec does when getrandom would block).
   */
  rngSeed?: Uint8Array | null;
}

/** setup_linux_system_parameters (without EFI and EDD, which a Xen HVM guest has none of). May add the RNG seed segment. */
export function setupSystemParameters(rm: Uint8Array, ranges: readonly MemoryRange[], segments: SegmentTable, first: FirstKernelInfo): void {
  const dv = view(rm);
  dv.setUint32(BP.HARDWARE_SUBARCH, first.hardwareSubarch ?? 0, true);
  rm[BP.ORIG_X] = 0;
  rm[BP.ORIG_Y] = 0;
  dv.setUint16(BP.ORIG_VIDEO_PAGE, 0, true);
  rm[BP.ORIG_VIDEO_MODE] = 0;
  rm[BP.ORIG_VIDEO_COLS] = 80;
  rm[BP.ORIG_VIDEO_LINES] = 25;
  dv.setUint16(BP.ORIG_VIDEO_EGA_BX, 0, true);
  rm[BP.ORIG_VIDEO_ISVGA] = 1;
  dv.setUint16(BP.ORIG_VIDEO_POINTS, 16, true);
  if (first.screenInfo) {
    if (first.screenInfo.length !== 0x40) throw new InputError(`screenInfo: ${first.screenInfo.length} bytes, want 64`);
    const magic = dv.getUint16(BP.CL_MAGIC, true);
    const offset = dv.getUint16(BP.CL_OFFSET, true);
    rm.set(first.screenInfo, 0);
    dv.setUint16(BP.CL_MAGIC, magic, true);
    dv.setUint16(BP.CL_OFFSET, offset, true);
  }
  dv.setUint16(BP.EXT_MEM_K, 0, true);
  dv.setUint32(BP.ALT_MEM_K, 0, true);
  rm[BP.E820_ENTRIES] = 0;
  rm.fill(0, BP.APM_BIOS_INFO, BP.APM_BIOS_INFO + 0x14);
  rm.fill(0, BP.DRIVE_INFO, BP.DRIVE_INFO + 32);
  dv.setUint16(BP.SYS_DESC_TABLE, 0, true);
  dv.setUint16(BP.ROOT_FLAGS, 0xffff, true); // mount_root_rdonly
  dv.setUint16(BP.ROOT_DEV, 0x0300, true); // "default /dev/hda"
  rm[BP.AUX_DEVICE_INFO] = 0; // clears boot_flag's 0xAA byte
  writeE820(rm, ranges);
  if (first.rngSeed !== null) addRngSeed(rm, segments, first.rngSeed ?? defaultRngSeed());
  // setup_edd_info: /sys/firmware/edd is absent in an HVM guest → nothing.
  dv.setBigUint64(BP.ACPI_RSDP_ADDR, first.acpiRsdpAddr ?? 0n, true);
}

/** setup_e820 / add_e820_map_from_mr: every range (RAM and reserved) into the table, and ext_mem_k / alt_mem_k. */
export function writeE820(rm: Uint8Array, ranges: readonly MemoryRange[]): void {
  if (ranges.length > E820_MAX) throw new InputError(`memory map: ${ranges.length} ranges, more than the ${E820_MAX} boot_params holds (kexec would add SETUP_E820_EXT; not modelled)`);
  const dv = view(rm);
  rm[BP.E820_ENTRIES] = ranges.length;
  ranges.forEach((r, i) => {
    const o = BP.E820_TABLE + i * E820_ENTRY_SIZE;
    dv.setBigUint64(o, BigInt(r.start), true);
    dv.setBigUint64(o + 8, BigInt(r.end - r.start + 1), true);
    dv.setUint32(o + 16, r.type, true);
    if (r.type === E820.RAM && r.start <= 0x100000 && r.end > 0x100000) {
      const memK = Math.floor(r.end / 1024) - 0x100000 / 1024;
      dv.setUint16(BP.EXT_MEM_K, Math.min(memK, 0xfc00), true);
      dv.setUint32(BP.ALT_MEM_K, Math.min(memK, 0xffffffff), true);
    }
  });
}

/** Reads the e820 table back from a boot_params buffer. */
export function readE820(rm: Uint8Array): MemoryRange[] {
  const dv = view(rm);
  const out: MemoryRange[] = [];
  for (let i = 0; i < rm[BP.E820_ENTRIES]!; i++) {
    const o = BP.E820_TABLE + i * E820_ENTRY_SIZE;
    const start = Number(dv.getBigUint64(o, true));
    out.push({ start, end: start + Number(dv.getBigUint64(o + 8, true)) - 1, type: dv.getUint32(o + 16, true) as MemoryRange['type'] });
  }
  return out;
}

/**
 * setup_rng_seed + add_setup_data: a struct setup_data { next, type = 9, len = 32, data[32] }
 * placed bottom-up from 1 MiB (add_buffer(..., pagesize, 0x100000, ULONG_MAX, INT_MAX)).
 */
function addRngSeed(rm: Uint8Array, segments: SegmentTable, seed: Uint8Array): void {
  if (seed.length !== 32) throw new InputError(`rngSeed: ${seed.length} bytes, want 32`);
  const sd = new Uint8Array(16 + 32);
  const sdv = view(sd);
  const dv = view(rm);
  sdv.setBigUint64(0, dv.getBigUint64(BP.SETUP_DATA, true), true);
  sdv.setUint32(8, SETUP_RNG_SEED, true);
  sdv.setUint32(12, 32, true);
  sd.set(seed, 16);
  const seg = segments.addBuffer('setup_data (rng seed)', sd, sd.length, PAGE_SIZE, 0x100000, ADDR_MAX, 'bottom-up');
  dv.setBigUint64(BP.SETUP_DATA, BigInt(seg.mem), true);
}

/** A fixed seed so plans are deterministic: sha256("bootpath kexec rng seed"). */
export function defaultRngSeed(): Uint8Array {
  return new Uint8Array(createHash('sha256').update('bootpath kexec rng seed').digest());
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
