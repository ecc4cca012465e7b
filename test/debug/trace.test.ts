// The trace front end: bootpath's per-instruction register lines against
// QEMU's own single-step log of the same bare-metal program (the recipe of
// docs/debugging.md), and `bootpath trace` on a kexec boot.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { captureState } from '../../emulator/index.ts';
import { Machine } from '../../src/machine/machine.ts';
import { loadMultibootImage, enterMultiboot } from '../../src/boot/multiboot.ts';
import { qemuLogToRegs, regsLine } from '../../src/debug/trace.ts';
import { build, buildDir } from '../system/firmware.ts';

const run = promisify(execFile);
const rip = (line: string) => /^RIP=([0-9a-f]+)/.exec(line)![1];

describe('trace', () => {
  it('lines up with QEMU\'s -d cpu -singlestep log of the same program, instruction by instruction', async () => {
    const dir = buildDir();
    const elf = await build('hello', dir);
    const log = join(dir, 'qemu.log');
    await run('qemu-system-x86_64', ['-accel', 'tcg', '-cpu', 'max', '-m', '64', '-display', 'none', '-no-reboot', '-serial', 'null', '-monitor', 'none',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', elf, '-d', 'cpu,nochain', '-singlestep', '-dfilter', '0x100000..0x200000', '-D', log],
    { timeout: 30_000 }).catch((e: { code?: number }) => { if (typeof e.code !== 'number') throw e; });
    const qemu = qemuLogToRegs(readFileSync(log, 'latin1'));
    expect(qemu.length).toBeGreaterThan(100);

    const m = new Machine({ ramSize: 64 << 20 });
    enterMultiboot(m.cpu, m.ram, loadMultibootImage(m.ram, new Uint8Array(readFileSync(elf))));
    const ours: string[] = [];
    m.cpu.stepLimit = 1;
    for (let k = 0; k < 100; k++) { ours.push(regsLine(captureState(m.cpu))); m.cpu.run(1); }
    // The same instruction stream; general registers agree wherever the multiboot hand-off defines them.
    expect(ours.map(rip)).toEqual(qemu.slice(0, 100).map(rip));
    const stack = (l: string) => /RSP=([0-9a-f]+)/.exec(l)![1];
    expect(ours.slice(2).map(stack)).toEqual(qemu.slice(2, 100).map(stack));
  });

  it('bootpath trace prints instruction count, rip, symbol, disassembly and changed registers', async () => {
    const { stdout } = await run('node', ['bin/bootpath.js', 'trace', '--entry', '32', '--count', '12']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^0 0x[0-9a-f]+ <purgatory:purgatory_start\+0x0> lgdt/);
    expect(lines[1]).toMatch(/^1 0x[0-9a-f]+ <purgatory:purgatory_start\+0x7> mov \$0x18,%eax {2}\| rax=18$/);
    const { stdout: regs } = await run('node', ['bin/bootpath.js', 'trace', '--entry', '32', '--count', '2', '--format', 'regs']);
    expect(regs.trim().split('\n')[1]).toMatch(/^RIP=[0-9a-f]{16} RAX=0{16} RBX=/);
  });

  it('says clearly what is wrong with a QEMU log that has no register dumps', async () => {
    const r = await run('node', ['bin/bootpath.js', 'trace', '--from-qemu', 'package.json']).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toContain('no register dumps');
  });
});
