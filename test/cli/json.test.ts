// --json on every command: one document on stdout with the schema and the
// command's name (docs/json.md), errors included.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

const root = new URL('../../', import.meta.url).pathname;

async function run(args: string[]) {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += typeof s === 'string' ? s : Buffer.from(s as Uint8Array).toString()), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const code = await main(args);
    return { code, json: JSON.parse(out) as Record<string, unknown> & { schema: string; command: string }, err };
  } finally {
    process.chdir(cwd);
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('--json', () => {
  it('boot: the envelope, then the result; the console is inside, not printed', async () => {
    const r = await run(['boot', '--entry', '32', '--max-instructions', '1000000', '--json']);
    expect(r.code).toBe(4);
    expect(r.json.schema).toBe('bootpath/1');
    expect(r.json.command).toBe('boot');
    expect(r.json.outcome).toBe('budget');
    expect(r.json.instructions).toBe(1_000_000);
    expect((r.json.state as { rip: string }).rip).toMatch(/^0x[0-9a-f]+$/);
    expect(r.err).toBe('');
  });

  it('inspect and trace', async () => {
    const i = await run(['inspect', 'kernels/tiny-6.1/bzImage.lz4', '--json']);
    expect(i.json).toMatchObject({ schema: 'bootpath/1', command: 'inspect', file: 'kernels/tiny-6.1/bzImage.lz4' });
    expect((i.json.vmlinux as { entry: string }).entry).toBe('0x1000000');
    const t = await run(['trace', '--entry', '32', '--count', '3', '--json']);
    expect(t.json).toMatchObject({ schema: 'bootpath/1', command: 'trace', source: 'boot', format: 'text', start: 0, ended: null });
    expect(t.json.lines).toHaveLength(3);
    expect((t.json.lines as string[])[0]).toMatch(/^0 0x[0-9a-f]+ <purgatory:purgatory_start\+0x0> /);
  });

  it('errors are documents too, with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootpath-json-'));
    const junk = join(dir, 'junk.elf');
    writeFileSync(junk, Buffer.alloc(64, 0x41));
    const u = await run(['check', '--json']);
    expect(u.code).toBe(2);
    expect(u.json).toEqual({ schema: 'bootpath/1', command: 'check', error: { kind: 'usage', message: expect.stringContaining('no bzImage given') } });
    const m = await run(['multiboot', junk, '--json']);
    expect(m.code).toBe(2);
    expect(m.json).toMatchObject({ schema: 'bootpath/1', command: 'multiboot', error: { kind: 'input', message: expect.stringContaining('junk.elf') } });
    const b = await run(['boot', '--until', 'no_such_symbol', '--json']);
    expect(b.json).toMatchObject({ command: 'boot', error: { kind: 'input', message: expect.stringContaining('no_such_symbol') } });
  });
});
