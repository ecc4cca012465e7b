// The bzImage payload on the host: decompress it and split it into what the
// kernel build put in (arch/x86/boot/compressed/Makefile, 6.1):
//   vmlinux.bin.all = vmlinux.bin (vmlinux as an ELF, objcopy -R .comment -S)
//                   + vmlinux.relocs (when CONFIG_X86_NEED_RELOCS)
// compressed, and for every format but gzip followed by the uncompressed size
// as a little-endian u32 (size_append). This is the oracle for what the guest
// decompressor must produce.
import { InputError } from '../errors.ts';
import type { BzImage } from './bzimage.ts';
import type { Compression } from './compression.ts';
import { decompress } from './decompress/index.ts';
import { elf64Extent } from './elfExtent.ts';
import { parseRelocTable, type RelocTable } from './relocs.ts';

/** A bzImage payload decompressed on the host: what the guest's decompressor must produce. */
export interface Payload {
  /** The compression it was in. */
  compression: Compression;
  /** vmlinux.bin.all: exactly what the decompressor writes out. */
  decompressed: Uint8Array;
  /** The stripped vmlinux ELF. */
  elf: Uint8Array;
  /** The raw relocation table bytes after the ELF (empty if none). */
  relocsRaw: Uint8Array;
  /** The relocation table (vmlinux.relocs) parsed, if the kernel has one. */
  relocs: RelocTable | undefined;
  /** The size word appended after the compressed stream, if the format has one. */
  appendedSize: number | undefined;
}

/**
 * Decompress a bzImage's payload on the host and split it into the vmlinux ELF
 * and its relocation table. Throws InputError for a corrupt or truncated
 * payload.
 */
export function decompressPayload(bz: BzImage): Payload {
  return decompressPayloadBytes(bz.payload, bz.compression, bz.file);
}

export function decompressPayloadBytes(payload: Uint8Array, compression: Compression, file: string): Payload {
  const fail = (what: string) => new InputError(`${file}: ${compression} payload: ${what}`);
  let stream = payload;
  let appendedSize: number | undefined;
  if (compression !== 'gzip') {
    if (payload.length < 8) throw fail('too short');
    const n = payload.length;
    appendedSize = (payload[n - 4]! | (payload[n - 3]! << 8) | (payload[n - 2]! << 16) | (payload[n - 1]! << 24)) >>> 0;
    stream = payload.subarray(0, n - 4);
  }
  let decompressed: Uint8Array;
  try {
    decompressed = decompress(compression, stream);
  } catch (e) {
    throw fail(`does not decompress: ${(e as Error).message}`);
  }
  if (appendedSize !== undefined && appendedSize !== decompressed.length) {
    throw fail(`decompressed to ${decompressed.length} bytes but the appended size says ${appendedSize}`);
  }
  let elfEnd: number;
  try {
    elfEnd = elf64Extent(decompressed);
  } catch (e) {
    throw fail(`decompressed data is not vmlinux: ${(e as Error).message}`);
  }
  const relocsRaw = decompressed.subarray(elfEnd);
  let relocs: RelocTable | undefined;
  if (relocsRaw.length) {
    try {
      relocs = parseRelocTable(relocsRaw);
    } catch (e) {
      throw fail(`bytes after the ELF are not a relocation table: ${(e as Error).message}`);
    }
  }
  return { compression, decompressed, elf: decompressed.subarray(0, elfEnd), relocsRaw, relocs, appendedSize };
}
