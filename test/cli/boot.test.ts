// The `bootpath boot` command as a user runs it: output, --json, exit codes.
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKexec } from '../../src/analysis/checkedBoot.ts';
import { BUNDLED_KERNEL } from '../../src/boot/bundled.ts';

const bin = new URL('../../bin/bootpath.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'boot', ...args], { encoding: 'utf8', timeout: 300_000 });
/** The same, without blocking (boots run side by side); resolves to the --json document. */
function runJson(...args: string[]): Promise<{ outcome: string; instructions: number; imageDiff: { bytesDiffering: number } | null; state: unknown; console: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, 'boot', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += String(d); });
    p.stderr.on('data', (d) => { err += String(d); });
    p.on('close', () => { try { resolve(JSON.parse(out)); } catch { reject(new Error(`bootpath boot ${args.join(' ')}: ${err}`)); } });
  });
}
const root = new URL('../../', import.meta.url).pathname;

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

  it('--jit wasm and --jit js boot the tiny kernels the same: outcome, instruction count, state, console, identical image', async () => {
    const kernels = ['kernels/tiny-6.1/bzImage.gzip', 'kernels/tiny-6.1/bzImage.xz'].map((k) => join(root, k));
    const [gw, gj, xw, xj] = await Promise.all(kernels.flatMap((k) => ['wasm', 'js'].map((jit) => runJson('--kernel', k, '--jit', jit))));
    for (const [w, j] of [[gw!, gj!], [xw!, xj!]] as const) {
      expect(w.outcome).toBe('reached');
      expect(w.imageDiff?.bytesDiffering).toBe(0);
      for (const k of ['outcome', 'instructions', 'state', 'console', 'imageDiff'] as const) expect(w[k], k).toEqual(j[k]);
    }
    // and each backend really ran: Wasm code in one, none in the other (the library's jit option)
    const opts = { kernel: kernels[1]!, maxInstructions: 20_000_000 };
    const wasm = bootKexec({ ...opts, jit: 'wasm' }).machine.cpu, js = bootKexec({ ...opts, jit: 'js' }).machine.cpu;
    expect(wasm.wasm!.stats.compiled).toBeGreaterThan(0);
    expect(js.wasm).toBeNull();
    expect(js.blocksCompiled).toBeGreaterThan(0);
    expect(bootKexec(opts).machine.cpu.wasm).not.toBeNull(); // the default
  }, 300_000);

  it('rejects a --jit value it does not know, naming the choices', () => {
    const r = run('--jit', 'fast');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--jit must be wasm or js, not 'fast'");
    expect(run('--help').stdout).toContain('--jit');
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
