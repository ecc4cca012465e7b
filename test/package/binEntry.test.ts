// Which code `bootpath` runs (bin/dist.js): an installed package runs dist/;
// a checkout runs dist/ only while no source changed after its build, so a
// test that spawns the command never exercises stale compiled code.
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
// @ts-expect-error plain JavaScript without declarations (bin/ runs before anything is compiled)
import { chooseEntry, distStaleness } from '../../bin/dist.js';

type Entry = { kind: 'dist' | 'source'; main: string; why: string };
const choose = chooseEntry as (root: string, env?: Record<string, string>) => Entry;
const stale = distStaleness as (root: string) => string | null;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'bootpath-entry-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  return root;
}
const at = (root: string, f: string, ms: number) => utimesSync(join(root, f), ms / 1000, ms / 1000);

describe('bin/dist.js', () => {
  const built = 1_700_000_000_000;
  const checkout = () => {
    const root = tree({
      'src/cli/main.ts': '', 'src/boot/deep/x.ts': '', 'emulator/cpu.ts': '', 'tsconfig.json': '{}',
      'dist/src/cli/main.js': '', 'dist/build.json': JSON.stringify({ started: built }),
    });
    for (const f of ['src/cli/main.ts', 'src/boot/deep/x.ts', 'emulator/cpu.ts', 'tsconfig.json']) at(root, f, built - 60_000);
    return root;
  };

  it('runs dist/ in a checkout whose build is newer than every source', () => {
    const root = checkout();
    expect(stale(root)).toBeNull();
    expect(choose(root, {})).toMatchObject({ kind: 'dist', main: join(root, 'dist/src/cli/main.js') });
  });

  it('runs the sources when any source, however deep, changed after the build started', () => {
    const root = checkout();
    at(root, 'src/boot/deep/x.ts', built + 1);
    expect(choose(root, {})).toMatchObject({ kind: 'source', main: join(root, 'src/cli/main.ts'), why: 'src/boot/deep/x.ts changed after the build' });
    const r2 = checkout();
    at(r2, 'emulator/cpu.ts', built);
    expect(choose(r2, {}).kind).toBe('source');
    const r3 = checkout();
    at(r3, 'tsconfig.json', built + 5);
    expect(choose(r3, {}).why).toBe('tsconfig.json changed after the build');
  });

  it('runs the sources when dist/ was never built', () => {
    const root = tree({ 'src/cli/main.ts': '' });
    expect(choose(root, {})).toMatchObject({ kind: 'source', why: 'dist/ is not built' });
  });

  it('runs dist/ in an installed package (no sources), and obeys BOOTPATH_CODE', () => {
    const root = tree({ 'dist/src/cli/main.js': '', 'src/xen/scenarios/default.json': '{}' });
    expect(choose(root, {})).toMatchObject({ kind: 'dist', why: 'an installed package (no sources)' });
    const c = checkout();
    expect(choose(c, { BOOTPATH_CODE: 'source' }).kind).toBe('source');
    at(c, 'src/cli/main.ts', built + 1);
    expect(choose(c, { BOOTPATH_CODE: 'dist' }).kind).toBe('dist');
  });
});
