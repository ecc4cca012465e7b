// The benchmark times the compiled JavaScript in dist/, as the `bootpath`
// command runs it: TypeScript run through tsx's loader is compiled by V8
// differently (module bindings become getter calls it inlines into hot
// code), so its figures are not what users get.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Build dist/ if a source changed since it was built (scripts/build.mjs --if-stale). */
export function ensureDist(): void {
  const r = spawnSync(process.execPath, [join(repo, 'scripts/build.mjs'), '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('bench: building dist/ failed (npm run build shows why)');
}

/** Import a module of dist/ by its path inside it, typed as its source. */
export async function distModule<T>(path: string): Promise<T> {
  return await import(pathToFileURL(join(repo, 'dist', path)).href) as T;
}
