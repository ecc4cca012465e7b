// `npm run build`: compile src/ and emulator/ to JavaScript and .d.ts in dist/
// (tsconfig.build.json; relative imports rewritten from .ts to .js). The
// build goes to a fresh folder that replaces dist/ when complete, so a
// `bootpath` started meanwhile never sees half of it, and files of deleted
// sources do not linger. dist/build.json records when the build started:
// bin/dist.js runs dist/ only if no source changed since.
// `--if-stale` (prepare, prepack): do nothing when dist/ is current. In an
// installed package (no sources) it does nothing at all.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distStaleness } from '../bin/dist.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// An installed package ships dist/ built and no sources: nothing to do (npm may run `prepare` there).
if (!existsSync(join(root, 'src/cli/main.ts'))) process.exit(0);
if (process.argv.includes('--if-stale')) {
  const stale = distStaleness(root);
  if (stale === null) { console.log('bootpath build: dist/ is current'); process.exit(0); }
  console.log(`bootpath build: ${stale}`);
}
const started = Date.now();
const out = join(root, `dist.building-${process.pid}`);
rmSync(out, { recursive: true, force: true });
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (r.status !== 0) { rmSync(out, { recursive: true, force: true }); process.exit(r.status ?? 1); }
writeFileSync(join(out, 'build.json'), JSON.stringify({ started, node: process.version }) + '\n');
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old);
renameSync(out, join(root, 'dist'));
rmSync(old, { recursive: true, force: true });
console.log(`bootpath build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
