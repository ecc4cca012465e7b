// Bad scenario files give clear errors (file, field path, problem), through
// the library and through the CLI (exit code 2).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario, resolveScenario, ScenarioError } from '../../src/xen/index.ts';
import { main } from '../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'bootpath-scenario-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const w = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => { err += s; return true; };
  try {
    return { code: await main(args), err };
  } finally {
    (process.stderr as unknown as { write: typeof w }).write = w;
  }
}

describe('bad scenario files', () => {
  it('not JSON: names the file and the JSON problem', () => {
    const p = file('broken.json', '{ "seed": 1,, }');
    expect(() => loadScenario(p)).toThrow(ScenarioError);
    expect(() => loadScenario(p)).toThrow(/broken\.json.*not valid JSON/s);
  });

  it('every problem is reported with its field path', () => {
    const p = file('bad.json', JSON.stringify({ seed: -1, firstKernel: { era: 'linux-2.4' }, timeUpdates: [{ vcpu: 0, period: 1000 }], colour: 'red' }));
    let msg = '';
    try { loadScenario(p); } catch (e) { msg = (e as Error).message; }
    expect(msg).toContain('bad.json');
    expect(msg).toMatch(/seed/);
    expect(msg).toMatch(/firstKernel\.era/);
    expect(msg).toMatch(/timeUpdates\[0\]\.period/);
    expect(msg).toMatch(/colour.*unknown field/);
  });

  it('a missing file and a missing first-kernel System.map are named', () => {
    expect(() => loadScenario(join(dir, 'nope.json'))).toThrow(/nope\.json: cannot read scenario/);
    const p = file('nomap.json', JSON.stringify({ firstKernel: { era: 'linux-3.x', systemMap: 'missing.map' } }));
    expect(() => resolveScenario(loadScenario(p))).toThrow(/firstKernel\.systemMap: cannot read .*missing\.map/);
  });

  it('inconsistent state: vcpu_info of a vcpu the domain does not have', () => {
    const p = file('vcpu.json', JSON.stringify({ vcpus: 1, firstKernel: { era: 'fix-00e37bdb', vcpuInfo: [{ vcpu: 3, gpa: '0x1000' }] } }));
    expect(() => resolveScenario(loadScenario(p))).toThrow(/firstKernel\.vcpuInfo\[0\]\.vcpu: 3 is out of range/);
  });

  it('the CLI exits 2 with the message for repro and sweep', async () => {
    const p = file('cli.json', '{ "load": "floppy" }');
    const a = await cli(['repro', '--scenario', p]);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/cli\.json.*load/s);
    const b = await cli(['sweep', '--scenario', p, '--gfn-from', '0x100', '--gfn-to', '0x101']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/cli\.json.*load/s);
    const c = await cli(['repro', '--fix', 'duct-tape']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--fix must be one of mmio, e820-reserved, soft-reset/);
  });
});
