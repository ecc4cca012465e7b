// The 2012 report's shape on Linux 6.1 (--scenario 2012-shift): Xen's time
// update lands in the compressed input before the decompressor reads it, the
// deflate stream decodes differently, and the decompressor's output — hence
// the image parse_elf builds — sits 8 bytes lower from a point in .rodata on:
// the markers around phys_base, loaded into r9-r14 by startup_64, each read
// the quad after their own, and the GDT next to phys_base is shifted too.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadScenario, resolveScenario, scenarioFile, bundledScenarioNames } from '../../src/xen/index.ts';
import { bootScenario, type ScenarioRun } from '../../src/analysis/scenarioBoot.ts';
import { liveWrites } from '../../src/analysis/timeline.ts';
import { crashCauseChain } from '../../src/analysis/crashChain.ts';
import { InputError } from '../../src/errors.ts';
import { describeAddress } from '../../src/boot/phases.ts';

const bin = fileURLToPath(new URL('../../bin/bootpath.js', import.meta.url));
let run: ScenarioRun;

beforeAll(() => {
  run = bootScenario(resolveScenario(loadScenario(scenarioFile('2012-shift'))));
});

describe('--scenario 2012-shift', () => {
  it('is a bundled scenario by name; an unknown name is an input error naming the bundled ones', () => {
    expect(bundledScenarioNames()).toEqual(expect.arrayContaining(['default', '2012-shift']));
    expect(bundledScenarioNames()[0]).toBe('default');
    expect(() => scenarioFile('2013-shift')).toThrow(InputError);
    expect(() => scenarioFile('2013-shift')).toThrow(/bundled: default, .*2012-shift/);
  });

  it('prints the 2012 console: the image decompressed and parsed, no relocation (nokaslr), then the triple fault', () => {
    const r = run.result;
    expect(r.console).toContain('Decompressing Linux... Parsing ELF... No relocation needed... done.');
    expect(r.console).toContain('Booting the kernel');
    expect(r.outcome, r.reason).toBe('crashed');
    expect(r.tripleFault).not.toBeNull();
    expect(r.tripleFault!.chain[0]!.vector).toBe(13);
    expect(describeAddress(r, r.state.rip)).toBe('startup_64_setup_env+0x20 (phys)'); // mov %eax,%ds: the shifted GDT's limit is 0
    expect(r.state.gdtr.limit).toBe(0);
  });

  it('every marker register reads the quad 8 bytes after its own (r9-r14: minus3 .. plus2), phys_base reads plus1', () => {
    const s = run.result.state;
    const q = (b: number) => BigInt('0x' + b.toString(16).repeat(16));
    expect(['r9', 'r10', 'r11', 'r12', 'r13', 'r14'].map((n) => s.gpr[n])).toEqual([q(2), q(1), 0x9090909090909090n, q(9), q(8), q(7)]);
  });

  it('the image is vmlinux displaced by -8 over .data (phys_base and the startup GDT), from a point in .rodata on', () => {
    const d = run.result.imageDiff!;
    const e = run.result.kernelEntry!;
    const physBase = e.outputPhys + 0x826040; // phys_base's offset from _text in the markers build (System.map)
    const over = d.shifts.find((s) => physBase >= s.phys && physBase < s.phys + s.length);
    expect(over?.shift).toBe(-8);
    expect(d.bytesShifted).toBeGreaterThan(d.bytesDiffering / 2);
    // the code before the shift is intact: the first differing byte lies past _etext
    const first = Math.min(...d.ranges.map((r) => r.phys), ...d.shifts.map((s) => s.phys));
    expect(first - e.outputPhys).toBeGreaterThan(0x400130);
  });

  it('Xen wrote into the compressed input before the decompressor read it, and nothing of Xen\'s landed in the image itself before the crash point', () => {
    const into = liveWrites(run).filter((w) => w.field.startsWith('vcpu_info[0].time') && w.icount > run.result.context.phaseStart.decompressor!);
    expect(into.length).toBeGreaterThan(0);
    expect(run.state.sharedInfo?.gpa).toBe(0x1b60000);
  });

  it('the cause chain follows the GDT: its zero limit, loaded by lgdt from startup_gdt_descr, copied there by parse_elf\'s memmove from the decompressor\'s output, written by inflate_fast', () => {
    const chain = crashCauseChain(run.options, run.result, { maxSteps: 8 });
    const text = chain.map((s) => s.text);
    expect(chain[0]!.kind).toBe('fault');
    expect(text[1]).toMatch(/^selector 0x18 needs GDT bytes 0x18\.\.0x1f, beyond the GDT limit 0x0; GDTR .* was loaded by `lgdt .*` at startup_64_setup_env\+0x[0-9a-f]+ \(phys\)$/);
    expect(chain[2]!.address).toBe(run.result.kernelEntry!.outputPhys + 0x826070); // startup_gdt_descr, whose limit is 0
    expect(text.find((t) => /last written by `rep movsq \(%rsi\),\(%rdi\)` at memmove\+0x[0-9a-f]+ \(decompressor\)/.test(t))).toBeDefined();
    expect(text.find((t) => /last written by `.*` at inflate_fast\+0x[0-9a-f]+ \(decompressor\)/.test(t))).toBeDefined();
  });

  it('the CLI takes the name', () => {
    const p = spawnSync(process.execPath, [bin, 'repro', '--scenario', 'no-such-scenario', '--no-chain'], { encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/no bundled scenario of that name \(bundled: default, 2012-shift\)/);
  });
});
