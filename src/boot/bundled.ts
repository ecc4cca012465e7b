// Paths of what the repository bundles (kernels/manifest.json describes them).
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rel = (p: string) => relative(process.cwd(), root + p) || '.';

/** The default kernel of `bootpath boot`: the bundled tiny PVHVM kernel, gzip. */
export const BUNDLED_KERNEL = rel('kernels/tiny-6.1/bzImage.gzip');
export const BUNDLED_KERNEL_DIR = rel('kernels/tiny-6.1');
export const COMPRESSIONS = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'] as const;
