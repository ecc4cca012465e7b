// Paths of what the repository bundles (kernels/manifest.json describes them).
import { basename, dirname, relative, resolve } from 'node:path';
import { existsSync, realpathSync } from 'node:fs';
import { PACKAGE_ROOT } from '../packageRoot.ts';

const root = PACKAGE_ROOT;
const rel = (p: string) => relative(process.cwd(), root + p) || '.';

/** The default kernel of `bootpath boot`: the bundled tiny PVHVM kernel, gzip. */
export const BUNDLED_KERNEL = rel('kernels/tiny-6.1/bzImage.gzip');
/** The bundled tiny kernel's folder: bzImage.<compression> for each of COMPRESSIONS, vmlinux, System.map, config, the decompressor ELFs. */
export const BUNDLED_KERNEL_DIR = rel('kernels/tiny-6.1');
/** The compressions the bundled kernel is built with (kernels/tiny-6.1/bzImage.<compression>). */
export const COMPRESSIONS = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'] as const;

/**
 * The tiny kernel built like the 2012 report's (`kernels/build-tiny.sh
 * --variant markers-2012`): marker quads around phys_base loaded into r9-r15
 * at the start of startup_64, a verbose decompressor, gzip only. Its
 * directory holds bzImage.gzip, vmlinux, System.map, config and
 * decompressor.gzip.elf.
 */
export const MARKERS_KERNEL_DIR = rel('kernels/tiny-6.1-markers');
export const MARKERS_KERNEL = rel('kernels/tiny-6.1-markers/bzImage.gzip');

/** The bundle directories (under kernels/) that hold bzImage.<compression> files. */
const KERNEL_BUNDLES = ['tiny-6.1', 'tiny-6.1-markers'];

const canonical = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));

/**
 * The decompressor ELF (arch/x86/boot/compressed/vmlinux without the
 * compressed kernel: code, data and symbols at their link addresses, startup_32
 * at 0) bundled beside a bundled `bzImage.<compression>`, for a debugger's
 * `add-symbol-file ... -o <where the decompressor relocated itself>`; null for
 * any other file.
 */
export function bundledDecompressorElf(bzImagePath: string): string | null {
  const m = /^bzImage\.([a-z0-9]+)$/.exec(basename(bzImagePath));
  if (!m || !(COMPRESSIONS as readonly string[]).includes(m[1]!)) return null;
  const dir = canonical(dirname(resolve(bzImagePath)));
  for (const bundle of KERNEL_BUNDLES) {
    if (dir !== canonical(root + 'kernels/' + bundle)) continue;
    const elf = `kernels/${bundle}/decompressor.${m[1]}.elf`;
    return existsSync(root + elf) ? rel(elf) : null;
  }
  return null;
}
