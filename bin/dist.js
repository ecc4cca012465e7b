// Which code the `bootpath` command runs, and whether dist/ is current.
//
// An installed package has only the compiled JavaScript (dist/) and runs it.
// A checkout has the TypeScript sources too, and dist/ may lag behind them:
// dist/ is used there only when it was built from the sources as they are
// now — `npm run build` records when it started (dist/build.json), and no
// source file may have changed since. Otherwise the sources run through tsx,
// so a test that spawns `bootpath` can never exercise stale compiled code.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the compiled code depends on: the sources and the build's own configuration. */
const SOURCE_DIRS = ['src', 'emulator'];
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];

/** null when dist/ is current; else why not (missing, or the first newer source). */
export function distStaleness(root) {
  let started;
  try {
    started = JSON.parse(readFileSync(join(root, 'dist/build.json'), 'utf8')).started;
  } catch {
    return 'dist/ is not built';
  }
  if (typeof started !== 'number') return 'dist/build.json has no build time';
  const newer = (file) => statSync(file).mtimeMs >= started;
  for (const f of BUILD_INPUTS) if (existsSync(join(root, f)) && newer(join(root, f))) return `${f} changed after the build`;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) { const r = walk(p); if (r) return r; }
      else if (e.name.endsWith('.ts') && newer(p)) return p;
    }
    return null;
  };
  for (const d of SOURCE_DIRS) {
    if (!existsSync(join(root, d))) continue;
    const f = walk(join(root, d));
    if (f) return `${f.slice(root.length).replace(/^\//, '')} changed after the build`;
  }
  return null;
}

/**
 * The entry module to run: { kind: 'dist' | 'source', main: path, why }.
 * BOOTPATH_CODE=source|dist overrides the choice (dist must exist).
 */
export function chooseEntry(root, env = process.env) {
  const compiled = { kind: 'dist', main: join(root, 'dist/src/cli/main.js') };
  const source = { kind: 'source', main: join(root, 'src/cli/main.ts') };
  if (env.BOOTPATH_CODE === 'dist') return { ...compiled, why: 'BOOTPATH_CODE=dist' };
  if (env.BOOTPATH_CODE === 'source') return { ...source, why: 'BOOTPATH_CODE=source' };
  if (!existsSync(source.main)) return { ...compiled, why: 'an installed package (no sources)' };
  const stale = distStaleness(root);
  return stale === null ? { ...compiled, why: 'dist/ is current' } : { ...source, why: stale };
}
