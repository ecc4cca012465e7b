// Merges one bundle's section into kernels/manifest.json: its provenance (from
// the recipe that built it) plus the size and sha256 of every file in its dir.
// Used by the recipes: tsx kernels/manifest.ts <name> <dir> '<provenance json>'
// or, to check a rebuild against it: tsx kernels/manifest.ts --verify <name> <dir>
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const kernelsDir = dirname(fileURLToPath(import.meta.url));
const manifestPath = join(kernelsDir, 'manifest.json');

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function hashDir(dir: string): Record<string, { size: number; sha256: string }> {
  const files: Record<string, { size: number; sha256: string }> = {};
  for (const f of readdirSync(dir).sort()) {
    const data = readFileSync(join(dir, f));
    files[f] = { size: data.length, sha256: sha256(data) };
  }
  return files;
}

const args = process.argv.slice(2);
if (args[0] === '--verify') {
  const [, name, dir] = args;
  const want = JSON.parse(readFileSync(manifestPath, 'utf8'))[name!]?.files ?? {};
  const got = hashDir(dir!);
  let bad = 0;
  for (const f of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const same = want[f]?.sha256 === got[f]?.sha256;
    if (!same) bad++;
    process.stdout.write(`${same ? 'same     ' : 'DIFFERS  '} ${f}\n`);
  }
  process.stdout.write(bad ? `${bad} file(s) differ from kernels/manifest.json\n` : 'rebuild is byte-identical to kernels/manifest.json\n');
  process.exit(bad ? 1 : 0);
}
const [name, dir, provenance] = args;
if (!name || !dir || !provenance) {
  process.stderr.write('usage: tsx kernels/manifest.ts <name> <dir> <provenance-json>\n');
  process.exit(2);
}

const files = hashDir(dir);
const section: Record<string, unknown> = { dir: relative(kernelsDir, dir), ...JSON.parse(provenance) };
if (files['config']) section.configSha256 = files['config'].sha256;
section.files = files;

const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
manifest[name] = section;
const sorted = Object.fromEntries(Object.keys(manifest).sort().map((k) => [k, manifest[k]]));
writeFileSync(manifestPath, JSON.stringify(sorted, null, 2) + '\n');
