// A bug in bootpath during a run is reported as one — with where the run was
// and a reproducer file — never as a guest crash.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = resolve('bin/bootpath.js');

describe('internal errors', () => {
  it('exit 70 with a reproducer file naming the command, the instruction count and the stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootpath-ie-'));
    const e = await run('node', [BIN, 'boot', '--entry', '32', '--quiet'], { cwd: dir, env: { ...process.env, BOOTPATH_TEST_FAIL_AT: '1000000' } })
      .catch((x: { code: number; stderr: string }) => x);
    const r = e as { code: number; stderr: string };
    expect(r.code).toBe(70);
    expect(r.stderr).toMatch(/internal error \(a bug in bootpath, not the guest\): injected by BOOTPATH_TEST_FAIL_AT \(at instruction 1000000, rip 0x[0-9a-f]+\)/);
    const [file] = readdirSync(dir).filter((f) => f.startsWith('bootpath-internal-error-'));
    const report = JSON.parse(readFileSync(join(dir, file!), 'utf8'));
    expect(report.command).toEqual(['bootpath', 'boot', '--entry', '32', '--quiet']);
    expect(report.instructions).toBe(1_000_000);
    expect(report.stack).toContain('TypeError: injected by BOOTPATH_TEST_FAIL_AT');
  });
});
