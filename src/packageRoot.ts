// Where bootpath's own files are: the folder holding its package.json. The
// bundled kernels, purgatory and scenarios are read from there at run time.
// The code runs from two depths — the TypeScript sources (src/…) in a
// checkout and the compiled JavaScript (dist/src/…) in a checkout or an
// installed package — so the root is found, not assumed.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'kernels'))) return dir;
    if (dirname(dir) === dir) throw new Error(`bootpath: no package root (package.json beside kernels/) above ${from}`);
  }
}

/** The package's root folder, with a trailing separator. */
export const PACKAGE_ROOT = join(findRoot(dirname(fileURLToPath(import.meta.url))), '/');

/** A file of the package by its path from the root ('kernels/purgatory/purgatory.o'). */
export const packageFile = (path: string): string => join(PACKAGE_ROOT, path);
