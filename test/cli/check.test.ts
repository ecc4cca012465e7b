// `bootpath check` as a CI job runs it: kernels × entry paths on worker
// threads, a line per boot, JUnit XML, exit 0 only when every boot reached
// x86_64_start_kernel with an image identical to vmlinux.
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkJunit, xmlText } from '../../src/report/junit.ts';
import { main } from '../../src/cli/main.ts';
import type { CheckRow } from '../../src/analysis/check.ts';

const bin = new URL('../../bin/bootpath.js', import.meta.url).pathname;
const root = new URL('../../', import.meta.url).pathname;
/** main() in this process, with its output captured (usage errors need no child process). */
async function inProcess(args: string[]) {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((x) => ((out += String(x)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((x) => ((err += String(x)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'check', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

describe('bootpath check', () => {
  let dir = '';
  let corrupt = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bootpath-check-'));
    // A copy of the bundled gzip kernel with one byte of its compressed payload flipped.
    const d = readFileSync(join(root, 'kernels/tiny-6.1/bzImage.gzip'));
    const pm = ((d[0x1f1] || 4) + 1) * 512, off = d.readUInt32LE(0x248), len = d.readUInt32LE(0x24c);
    d[pm + off + (len >> 1)]! ^= 0xff;
    corrupt = join(dir, 'bzImage.corrupt');
    writeFileSync(corrupt, d);
  });

  it('boots two kernels on both entry paths, fails the corrupted copy, and says so in JUnit XML', () => {
    const junit = join(dir, 'check.xml');
    const r = run('kernels/tiny-6.1/bzImage.gzip', 'kernels/tiny-6.1/bzImage.lz4', corrupt, '--junit', junit, '--workers', '2');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('PASS'))).toHaveLength(4);
    for (const k of ['bzImage.gzip', 'bzImage.lz4']) for (const e of [64, 32]) {
      expect(lines.some((l) => l.startsWith(`PASS  kernels/tiny-6.1/${k}  entry ${e}  reached x86_64_start_kernel`) && l.includes('image identical'))).toBe(true);
    }
    expect(lines.filter((l) => l.startsWith(`FAIL  ${corrupt}`))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^check: 6 boot\(s\) of 3 kernel\(s\) on 2 worker\(s\) in [\d.]+ s: 4 passed, 2 failed; JUnit XML in /);

    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="bootpath check" tests="6" failures="2" errors="0"/);
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml.match(/<testcase /g)).toHaveLength(6);
    const failures = [...xml.matchAll(/<failure type="([^"]+)" message="([^"]+)">/g)];
    expect(failures).toHaveLength(2);
    for (const f of failures) {
      expect(f[1]).toBe('input');
      expect(f[2]).toContain(corrupt);
      expect(f[2]).toContain('gzip payload');
    }
    expect(xml).toContain(`<testsuite name="${corrupt}" tests="2" failures="2"`);
    expect(xml).toContain('<testsuite name="kernels/tiny-6.1/bzImage.lz4" tests="2" failures="0"');
    expect(xml).toContain("<system-out>I'm in purgatory");
  }, 300_000);

  it('fails a boot that does not reach the kernel, with the outcome and where; --json gives the rows', () => {
    const r = run('kernels/tiny-6.1/bzImage.gzip', '--entry', '32', '--max-instructions', '1000000', '--json');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.command).toBe('check');
    expect(j.passed).toBe(false);
    expect(j.rows).toHaveLength(1);
    expect(j.rows[0].outcome).toBe('budget');
    expect(j.rows[0].failure).toMatch(/^budget: instruction budget of 1000000 exhausted in purgatory at purgatory:/);
    expect(j.rows[0].job).toEqual({ kernel: 'kernels/tiny-6.1/bzImage.gzip', entry: 32, placement: 'kexec', maxInstructions: 1000000 });
  }, 120_000);

  it('exits 2 with a clear message on bad usage, before booting anything', async () => {
    const cases: [string[], RegExp][] = [
      [[], /no bzImage given/],
      [['no/such/bzImage'], /no\/such\/bzImage: cannot read: ENOENT/],
      [['kernels/tiny-6.1'], /kernels\/tiny-6.1: not a file/],
      [['kernels/tiny-6.1/bzImage.gzip', '--entry', '64,16'], /--entry: each entry path is 64 or 32, not '16'/],
      [['kernels/tiny-6.1/bzImage.gzip', '--placement', 'middle'], /--placement: not a non-negative integer: middle/],
      [['kernels/tiny-6.1/bzImage.gzip', '--junit', '/no/such/dir/x.xml'], /--junit \/no\/such\/dir\/x.xml: cannot write into \/no\/such\/dir/],
      [['kernels/tiny-6.1/bzImage.gzip', '--workers', '0'], /--workers must be at least 1/],
      [['kernels/tiny-6.1/bzImage.gzip', '--jit', 'fast'], /--jit must be wasm or js, not 'fast'/],
      [['kernels/tiny-6.1/bzImage.gzip', '--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    const cwd = process.cwd();
    process.chdir(root);
    try {
      for (const [args, message] of cases) {
        const r = await inProcess(['check', ...args]);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.err).toMatch(message);
        expect(r.out).toBe('');
      }
    } finally {
      process.chdir(cwd);
    }
  }, 120_000);
});

describe('JUnit XML', () => {
  it('escapes markup and replaces characters XML 1.0 forbids', () => {
    expect(xmlText('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
    expect(xmlText('esc\u001b[0m bell\u0007 tab\t nl\n')).toBe('esc\ufffd[0m bell\ufffd tab\t nl\n');
    expect(xmlText('lone \ud800 pair \ud83d\ude00')).toBe('lone \ufffd pair \ud83d\ude00');
  });

  it('writes a failing image check as a failure with the ranges', () => {
    const row: CheckRow = {
      job: { kernel: 'k/bzImage', entry: 64, placement: 'bottom-up' }, passed: false, outcome: 'reached', reason: 'reached x86_64_start_kernel',
      failure: 'image differs from vmlinux: 8 of 100 bytes, first at 0x1000000 (startup_64+0x0)', phase: 'kernel', where: 'x86_64_start_kernel',
      instructions: 5, image: { compared: 100, differing: 8, ranges: [{ phys: 0x1000000, length: 8, where: 'startup_64+0x0' }] },
      outputPhys: 0x1000000, kernelSegment: 0x100000, console: '', seconds: 1.5,
    };
    const xml = checkJunit({ rows: [row], workers: 1, seconds: 2, passed: false });
    expect(xml).toContain('<testcase classname="bootpath.check.k/bzImage" name="entry 64, placement bottom-up to x86_64_start_kernel" time="1.500">');
    expect(xml).toContain('<failure type="image" message="k/bzImage: image differs from vmlinux: 8 of 100 bytes, first at 0x1000000 (startup_64+0x0)">');
    expect(xml).toContain('  0x1000000 +8 startup_64+0x0');
  });
});
