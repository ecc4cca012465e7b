// The cause chain on a 2012-shaped crash: a hypervisor write of
// 0x9090909090909090 over phys_base just before the decompressor jumps to
// startup_64 must be traced back from the triple fault at `mov %rax,%cr3`.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { bootKexec } from '../../src/analysis/checkedBoot.ts';
import type { BootOptions } from '../../src/run/prepare.ts';
import { crashCauseChain } from '../../src/analysis/crashChain.ts';
import { formatCauseChain } from '../../src/analysis/causeChain.ts';
import { readVmlinux } from '../../src/boot/vmlinux.ts';
import { BUNDLED_KERNEL_DIR } from '../../src/boot/bundled.ts';

describe('cause chain', () => {
  it('walks from the triple fault at the CR3 load back to the hypervisor write over phys_base', () => {
    const base: BootOptions = { kernel: `${BUNDLED_KERNEL_DIR}/bzImage.gzip`, entry: 32 };
    const clean = bootKexec(base);
    const e = clean.kernelEntry!;
    const vm = readVmlinux(new Uint8Array(readFileSync(`${BUNDLED_KERNEL_DIR}/vmlinux`)), 'vmlinux');
    const physBase = e.outputPhys + Number(vm.symbols.find((s) => s.name === 'phys_base')!.value - e.linkBase);
    const when = e.icount - 5;
    const opts: BootOptions = {
      ...base,
      prepare: (m) => m.scheduler.at(when, () => m.ram.writeBy(physBase, new Uint8Array(8).fill(0x90), { kind: 'hypervisor', icount: when, what: 'test write' })),
    };
    const r = bootKexec(opts);
    expect(r.outcome).toBe('crashed');
    expect(r.tripleFault!.instruction).toBe('mov %rax,%cr3');
    expect(r.tripleFault!.chain[0]!.vector).toBe(13);
    expect(r.imageDiff!.ranges.map((x) => x.where)).toEqual(['phys_base']);
    const steps = crashCauseChain(opts, r);
    const text = formatCauseChain(steps);
    expect(steps[0]!.kind).toBe('fault');
    expect(steps[0]!.instruction).toBe('mov %rax,%cr3');
    expect(text).toMatch(/add 0x[0-9a-f]+,%rax/i);
    expect(steps.some((s) => s.kind === 'memory' && s.address === physBase)).toBe(true);
    const last = steps[steps.length - 1]!;
    expect(last.kind).toBe('hypervisor');
    expect(last.icount).toBe(when);
    expect(last.text).toContain('test write');
  }, 600_000);
});
