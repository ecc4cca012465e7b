// Scenario files: the bundled default, defaults, and validation errors that
// name the file, the field path and the problem.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import { XenHypervisor } from '../../src/xen/hypervisor.ts';
import { ScenarioError, loadScenario, parseScenario, validateScenario } from '../../src/xen/scenario.ts';
import { resolveScenario } from '../../src/xen/scenarioResolve.ts';
import { FakeClock, FakeMemory } from './fakes.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSystemMap, symbolIndex } from '../../src/boot/systemMap.ts';

// The tiny kernel's placements, from its System.map (test/xen/firstKernel.test.ts pins the values).
const MAP = fileURLToPath(new URL('../../kernels/tiny-6.1/System.map', import.meta.url));
const sym = (name: string) => Number(symbolIndex(parseSystemMap(readFileSync(MAP, 'utf8'), MAP)).get(name)! - 0xffffffff80000000n);

function problems(doc: unknown, file = 'x.json'): string[] {
  try {
    validateScenario(doc, file);
  } catch (e) {
    if (e instanceof ScenarioError) {
      expect(e.message.startsWith(`${file}: invalid scenario`)).toBe(true);
      return e.problems.map((p) => `${p.path}: ${p.message}`);
    }
    throw e;
  }
  return [];
}

describe('the bundled default scenario', () => {
  // The first kernel is the tiny kernel loaded at phys_base 0x17200000: its brk page, found by sweep (docs/xen-shim.md).
  const FIRST_KERNEL_PHYS_BASE = 0x17200000;

  it('is valid and places shared_info in the first kernel\'s brk', () => {
    const r = resolveScenario(loadScenario(DEFAULT_SCENARIO_PATH));
    expect(r.spec.firstKernel.era).toBe('linux-3.x');
    expect(r.kernelPath.endsWith('kernels/tiny-6.1/bzImage.gzip')).toBe(true);
    expect(r.state.sharedInfo).toMatchObject({ gpa: sym('__brk_base') + FIRST_KERNEL_PHYS_BASE, inRam: true });
    expect(r.state.sharedInfo!.gpa).toBe(0x18c00000);
    expect(r.state.ports.map((p) => p.port)).toEqual([1, 2, 3, 4]);
    expect(r.config.clock).toEqual({ instructionsPerSecond: 1e9, tscPerInstruction: 3, systemTimeAtStart: 300e9, tscAtStart: 900e9 });
    expect(r.config.timeUpdates[2]!.every).toEqual({ period: 30_000_000, phase: 7_000_000, jitter: 5_000_000 });
    expect(r.config.sends).toEqual([{ port: 1, every: { period: 50_000_000, phase: 3_000_000, jitter: 10_000_000 } }]);
  });

  it('runs: 100 ms of virtual time give time updates, timer events and xenstore events in the page', () => {
    const r = resolveScenario(loadScenario(DEFAULT_SCENARIO_PATH));
    const mem = new FakeMemory();
    const clock = new FakeClock();
    const xen = new XenHypervisor(mem, clock, r.state, r.config);
    xen.install();
    clock.runUntil(100_000_000);
    const events = new Set(xen.writes.map((w) => w.source.event));
    expect([...events].sort()).toEqual(['evtchn_send', 'initial_state', 'vcpu_time_update']);
    const brk = sym('__brk_base') + FIRST_KERNEL_PHYS_BASE;
    expect(xen.writes.every((w) => w.addr >= brk && w.addr < brk + 0x1000)).toBe(true);
    expect(xen.writes.some((w) => w.source.field === 'vcpu_info[0].time.system_time')).toBe(true);
    expect(xen.writes.some((w) => w.source.field === 'vcpu_info[1].time.system_time')).toBe(true);
  });
});

describe('defaults', () => {
  it('an empty object is the default setting', () => {
    const s = validateScenario({}, 'empty.json');
    expect(s).toMatchObject({ kernel: 'bundled:tiny-6.1/bzImage.gzip', load: 'bzImage64', ramSize: 512 * 2 ** 20, seed: 1, vcpus: 1, wallclock: null });
    expect(s.firstKernel).toMatchObject({ era: 'linux-3.x', systemMap: 'bundled:tiny-6.1/System.map' });
    expect(s.events.map((e) => e.port)).toEqual([1, 2, 3]);
    expect(s.timeUpdates.length).toBe(2);
  });

  it('soft reset empties the stale state whatever was bound', () => {
    const r = resolveScenario(validateScenario({ firstKernel: { era: 'soft-reset' } }, join(process.cwd(), 's.json')));
    expect(r.state).toMatchObject({ sharedInfo: null, vcpuInfo: [], ports: [], timers: [] });
  });

  it('modern era on the tiny kernel: low page and registered vcpu_info', () => {
    const r = resolveScenario(validateScenario({ firstKernel: { era: 'modern', systemMap: 'bundled:tiny-6.1/System.map' } }, join(process.cwd(), 's.json')));
    expect(r.state.sharedInfo!.gpa).toBe(0x10000);
    expect(r.state.vcpuInfo).toEqual([expect.objectContaining({ vcpu: 0, gpa: sym('xen_vcpu_info') })]);
  });

  it('a firstKernel.vmlinux gives the same symbols as the System.map', () => {
    const r = resolveScenario(validateScenario({ firstKernel: { era: 'linux-3.x', vmlinux: 'bundled:tiny-6.1/vmlinux' } }, join(process.cwd(), 's.json')));
    expect(r.state.sharedInfo!.gpa).toBe(sym('__brk_base'));
  });
});

describe('validation errors name the file, the field path and the problem', () => {
  it('unknown fields', () => {
    expect(problems({ colour: 'red' })).toEqual([expect.stringMatching(/^colour: unknown field \(known: format, /)]);
    expect(problems({ firstKernel: { era: 'modern', systemMap: 'a', bogus: 1 } })).toEqual([expect.stringMatching(/^firstKernel\.bogus: unknown field/)]);
    expect(problems({ timeUpdates: [{ vcpu: 0, period: '1s', perod: '2s' }] })).toEqual([expect.stringMatching(/^timeUpdates\[0\]\.perod: unknown field/)]);
  });

  it('wrong types', () => {
    expect(problems({ seed: 'abc' })).toEqual(['seed: expected a whole number, got the string "abc"']);
    expect(problems({ vcpus: 1.5 })).toEqual(['vcpus: expected a whole number, got number 1.5']);
    expect(problems({ events: {} })).toEqual(['events: expected an array, got an object']);
    expect(problems({ events: [{ port: 3, bind: 'virq', virq: 'VIRQ_TIMER', masked: 'no' }] })).toEqual(['events[0].masked: expected true or false, got the string "no"']);
    expect(problems({ load: 'elf' })).toEqual(['load: expected one of "bzImage64", "legacy32", got the string "elf"']);
    expect(problems({ timeUpdates: [{ vcpu: 0, period: 1000 }] })).toEqual(['timeUpdates[0].period: a duration needs a unit: write "1000ns", "1000ms" or "1000insn"']);
    expect(problems({ firstKernel: { era: 'linux-3.x', sharedInfo: 'here' } })).toEqual([expect.stringMatching(/^firstKernel\.sharedInfo: expected an address/)]);
  });

  it('out of range', () => {
    expect(problems({ vcpus: 0 })).toEqual(['vcpus: 0 is out of range (1 .. 128)']);
    expect(problems({ ramSize: '1M' })).toEqual(['ramSize: 1048576 bytes is out of range (16M .. 1T)']);
    expect(problems({ vcpus: 2, events: [{ port: 4096, vcpu: 2, bind: 'ipi' }] })).toEqual([
      'events[0].port: 4096 is out of range (1 .. 4095)',
      'events[0].vcpu: 2 is out of range (0 .. 1)',
    ]);
    expect(problems({ timeUpdates: [{ vcpu: 0, period: '0ms' }] })).toEqual(['timeUpdates[0].period: must be greater than 0']);
    expect(problems({ firstKernel: { era: 'linux-3.x', sharedInfo: '0x1a00010' } })).toEqual(['firstKernel.sharedInfo: 0x1a00010 is not 4 KiB aligned (shared_info occupies a whole frame)']);
    expect(problems({ xen: { timeVersion: 7 } })).toEqual(['xen.timeVersion: 7 is odd: at kexec no update was in progress (use an even number)']);
    expect(problems({ firstKernel: { era: 'modern', vcpuInfo: [{ vcpu: 0, gpa: '0x1ff0' }] } })).toEqual(['firstKernel.vcpuInfo[0].gpa: 0x1ff0: a vcpu_info must not cross a page (Xen refuses it)']);
  });

  it('missing', () => {
    expect(problems({ firstKernel: { systemMap: 'a' } })).toEqual([expect.stringMatching(/^firstKernel\.era: missing \(one of linux-3\.x, /)]);
    expect(problems({ events: [{ vcpu: 0 }] })).toEqual(['events[0].port: missing (the event channel port number)', 'events[0].bind: missing ("virq", "interdomain" or "ipi")']);
    expect(problems({ events: [{ port: 3, bind: 'virq' }] })).toEqual([expect.stringMatching(/^events\[0\]\.virq: missing for bind "virq"/)]);
    expect(problems({ timers: [{ kind: 'singleshot' }] })).toEqual(['timers[0].at: missing (when it fires, e.g. "4ms")']);
    expect(problems({ firstKernel: { era: 'linux-3.x' } })).toEqual([expect.stringMatching(/^firstKernel: era linux-3\.x places Xen's frames from the first kernel's symbols/)]);
  });

  it('inconsistent', () => {
    expect(problems({ events: [{ port: 3, bind: 'virq', virq: 0 }, { port: 3, bind: 'ipi' }] })).toEqual(['events[1].port: port 3 is bound twice']);
    expect(problems({ timers: [{ kind: 'singleshot', at: '1ms', period: '1ms' }] })).toEqual(['timers[0].period: only for kind "periodic"']);
    expect(problems({ format: 'v2' })).toEqual(['format: expected "bootpath-xen-scenario/1", got the string "v2"']);
  });

  it('all problems of a file come together, and JSON errors name the file', () => {
    expect(problems({ seed: -1, vcpus: 999, load: 3 }).length).toBe(3);
    expect(() => parseScenario('{ "seed": ', 'broken.json')).toThrow(/^broken\.json: invalid scenario:\n {2}\(top level\): not valid JSON/);
  });

  it('placement problems are reported against the scenario file', () => {
    const spec = validateScenario({ firstKernel: { era: 'linux-3.x', systemMap: 'bundled:tiny-6.1/System.map', sharedInfo: '0x18d4000' },
      vcpus: 1 }, 'p.json');
    spec.firstKernel.vcpuInfo = [{ vcpu: 0, gpa: 0x18d4280 }];
    expect(() => resolveScenario(spec)).toThrow(/p\.json: invalid scenario:\n {2}firstKernel: vcpu_info for vcpu 0 lies inside the shared_info frame/);
  });

  it('relative paths resolve against the scenario file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootpath-scn-'));
    try {
      writeFileSync(join(dir, 'System.map'), 'ffffffff81000000 T _text\nffffffff82000000 B __brk_base\n');
      writeFileSync(join(dir, 's.json'), JSON.stringify({ kernel: 'my.bzImage', firstKernel: { era: 'linux-3.x', systemMap: 'System.map' } }));
      const r = resolveScenario(loadScenario(join(dir, 's.json')));
      expect(r.kernelPath).toBe(join(dir, 'my.bzImage'));
      expect(r.state.sharedInfo!.gpa).toBe(0x2000000);
      expect(() => loadScenario(join(dir, 'missing.json'))).toThrow(/missing\.json: cannot read scenario/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

afterAll(() => undefined);
