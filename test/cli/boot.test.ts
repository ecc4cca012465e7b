// The `bootpath boot` command as a user runs it: output, --json, exit codes.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKexec } from '../../src/analysis/checkedBoot.ts';
import { BUNDLED_KERNEL } from '../../src/boot/bundled.ts';

const bin = new URL('../../bin/bootpath.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'boot', ...args], { encoding: 'utf8', timeout: 300_000 });

describe('bootpath boot', () => {
  it('boots the bundled kernel and exits 0; --json gives the same as data', () => {
    const r = run('--entry', '32', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.outcome).toBe('reached');
    expect(j.target.name).toBe('x86_64_start_kernel');
    expect(j.where).toBe('x86_64_start_kernel');
    expect(j.imageDiff.bytesDiffering).toBe(0);
    expect(j.console).toContain("I'm in purgatory");
    expect(j.phases.decompressor).toBeGreaterThan(0);
  }, 300_000);

  it('--no-compile runs the same boot in the interpreter: same state, console and footprint at the same count (into the decompressor)', () => {
    const args = ['--entry', '32', '--max-instructions', '100000000', '--json'];
    const [on, off] = [run(...args), run(...args, '--no-compile')].map((r) => JSON.parse(r.stdout));
    expect(off.instructions).toBe(100_000_000);
    expect(off.phase).toBe('decompressor');
    for (const k of ['instructions', 'phase', 'phases', 'state', 'console', 'layout']) expect(off[k], k).toEqual(on[k]);
    // and the interpreter really ran it alone: the library's run compiled nothing with compile: false
    const opts = { kernel: BUNDLED_KERNEL, entry: 32 as const, maxInstructions: 20_000_000 };
    expect(bootKexec({ ...opts, compile: false }).machine.cpu.blocksCompiled).toBe(0);
    expect(bootKexec(opts).machine.cpu.blocksCompiled).toBeGreaterThan(0);
  }, 300_000);

  it('stops at the instruction budget with exit code 4 and a dump', () => {
    const r = run('--entry', '32', '--max-instructions', '1000000', '--quiet');
    expect(r.status).toBe(4);
    expect(r.stdout).toContain('outcome: budget');
    expect(r.stdout).toMatch(/rip: [0-9a-f]{16} <purgatory:/);
  }, 300_000);

  it('names the input and exits 2 on bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootpath-cli-'));
    const junk = join(dir, 'junk.img');
    writeFileSync(junk, Buffer.alloc(8192, 0x41));
    const a = run('--kernel', junk);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('junk.img');
    const b = run('--until', 'no_such_symbol');
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('no_such_symbol');
    const c = run('--entry', '16');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('--entry');
  }, 300_000);
});
