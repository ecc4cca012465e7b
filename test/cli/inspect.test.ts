// `bootpath inspect` end to end through main(): text, --json, and bad input.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { tinyBzImagePath } from '../boot/tinyKernel.ts';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('bootpath inspect', () => {
  it('prints header, payload, segments and key symbols', async () => {
    const r = await run(['inspect', tinyBzImagePath('lz4')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/boot protocol\s+2\.15/);
    expect(r.out).toMatch(/payload: lz4, \d+ bytes/);
    expect(r.out).toMatch(/PT_LOAD/);
    expect(r.out).toMatch(/xloadflags\s+0x\w+ KERNEL_64 CAN_BE_LOADED_ABOVE_4G/);
    expect(r.out).toMatch(/startup_64\s+0xffffffff81000000/);
  });

  it('emits JSON with --json', async () => {
    const r = await run(['inspect', '--json', tinyBzImagePath('gzip')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.payload.compression).toBe('gzip');
    expect(j.header.kernelAlignment).toBe(0x200000);
    expect(j.header.prefAddress).toBe('0x1000000');
    expect(j.vmlinux.segments.length).toBeGreaterThanOrEqual(3);
    expect(j.kallsyms.found).toBe(true);
    expect(j.kallsyms.keySymbols.startup_64).toBe('0xffffffff81000000');
  });

  it('exits 2 naming the file for a missing or bad input', async () => {
    const missing = await run(['inspect', '/nonexistent/bzImage']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/\/nonexistent\/bzImage: cannot read: ENOENT/);
    const junk = join(mkdtempSync(join(tmpdir(), 'bootpath-')), 'junk');
    writeFileSync(junk, Buffer.alloc(4096, 7));
    const bad = await run(['inspect', junk]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`${junk}: not a bzImage`);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run(['inspect'])).code).toBe(2);
    expect((await run(['inspect', '--bogus', 'x'])).code).toBe(2);
  });
});
