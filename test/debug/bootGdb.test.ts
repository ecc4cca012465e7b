// Real gdb against the stub on a real kexec boot of the bundled tiny kernel
// (legacy 32-bit entry): symbols for every stage, breakpoints, stepping with
// registers checked against the emulator's own run of the same boot,
// watchpoints on the decompressor's output, reverse execution, Ctrl-C, and
// a 32-bit stretch. One session serves the tests in order, as a user's would.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { GPR_NAMES, captureState } from '../../emulator/index.ts';
import { BootRun } from '../../src/run/bootRun.ts';
import type { BootOptions } from '../../src/run/prepare.ts';
import { ImageCheck } from '../../src/analysis/imageCheck.ts';
import { bootSymbolLines, startDebugSession, type DebugSession } from '../../src/debug/session.ts';
import { runGdb } from './runGdb.ts';
import { tinyBzImagePath } from '../boot/tinyKernel.ts';
import { bundledDecompressorElf } from '../../src/boot/bundled.ts';

const OPTIONS: BootOptions = { kernel: tinyBzImagePath('gzip'), entry: 32, ramSize: 512 << 20, until: null, seed: 7 };

let session: DebugSession;
let run: BootRun;
let symbols: string[];
const said: string[] = [];

beforeAll(async () => {
  const check = new ImageCheck();
  run = new BootRun(OPTIONS, [check]);
  const monitor = { imageCheck: check, decompressorElf: bundledDecompressorElf(OPTIONS.kernel as string) };
  const say = (l: string) => said.push(l);
  session = await startDebugSession({ run, listen: '127.0.0.1:0', say, monitor, symbols: bootSymbolLines(run, { ...monitor, say }) });
  // The printed command line is what a user pastes: take its add-symbol-file commands.
  symbols = [...session.gdbCommand.matchAll(/-ex '(add-symbol-file [^']+)'/g)].map((m) => m[1]!);
});
afterAll(async () => { await session?.server.close(); });

const gdb = (commands: string[], timeoutMs = 60_000) => runGdb(session.server.address.port, [...symbols, ...commands], { timeoutMs });

/** The same boot run by the emulator alone to exactly `icount`: its registers are the reference. */
function reference(icount: number) {
  const r = new BootRun(OPTIONS);
  r.advance(icount, false);
  expect(r.icount).toBe(icount);
  return captureState(r.machine.cpu);
}

function registersOf(out: string): Record<string, bigint> {
  const regs: Record<string, bigint> = {};
  for (const m of out.matchAll(/^(r[a-z0-9]+|eflags)\s+(0x[0-9a-f]+)/gm)) regs[m[1]!] ??= BigInt(m[2]!);
  return regs;
}

/** Instruction counts `monitor icount` printed (gdb writes monitor output to stderr in batch mode). */
const icountOf = (out: string) => [...out.matchAll(/instruction ([\d,]+), (?:purgatory|decompressor|kernel)/g)].map((m) => Number(m[1]!.replace(/,/g, '')));

function expectSameRegisters(out: string, icount: number) {
  const ref = reference(icount);
  const got = registersOf(out);
  for (const n of GPR_NAMES) expect(got[n], n).toBe(ref.gpr[n]);
  expect(got.rip).toBe(ref.rip);
  expect(Number(got.eflags)).toBe(ref.rflags);
}

describe('gdb on a kexec boot', () => {
  it('attaches before the first instruction and prints a command line with every stage\'s symbols', async () => {
    expect(said.join('\n')).toContain('gdb -q');
    expect(symbols.some((s) => s.includes('purgatory.o'))).toBe(true);
    expect(symbols.filter((s) => s.includes('vmlinux -o')).length).toBe(2);
    expect(symbols.filter((s) => s.includes('decompressor.gzip.elf -o')).length).toBe(2);
    const r = await gdb(['info registers rip', 'p $cr0', 'monitor icount']);
    expect(r.stdout).toMatch(/rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <purgatory_start>/);
    expect(r.stdout).toContain('[ PE MP ET NE PG ]'); // relocate_kernel's CR0: 0x80000033
    expect(r.stderr).toContain('instruction 0, purgatory');
  });

  it('breaks at a purgatory symbol and single-steps with the registers the emulator has at that instruction', async () => {
    const r = await gdb(['break purgatory', 'continue', 'stepi', 'stepi', 'info registers', 'monitor icount']);
    expect(r.stdout).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in purgatory \(\)/);
    const [n] = icountOf(r.stderr);
    expect(n).toBeGreaterThan(2);
    expectSameRegisters(r.stdout, n!);
  });

  it('steps through 32-bit code (the legacy entry) without losing the 64-bit register layout', async () => {
    const eip = run.plan.entry32Regs.eip;
    const r = await gdb(['delete', `break *0x${eip.toString(16)}`, 'continue', 'monitor phase', 'stepi', 'stepi', 'stepi', 'info registers', 'p $pc', 'monitor icount']);
    expect(r.stdout + r.stderr).not.toMatch(/too long|Remote 'g' packet/);
    expect(r.stderr).toContain('decompressor from instruction');
    const n = icountOf(r.stderr).pop()!;
    const ref = reference(n);
    expect(ref.mode).toBe('protected32');
    expectSameRegisters(r.stdout, n);
  });

  it('breaks in the decompressor at its own symbols, in the copy it relocated itself to', async () => {
    const r = await gdb(['delete', 'break extract_kernel', 'continue', 'info registers rip', 'bt 2', 'monitor phase']);
    expect(r.stdout).toMatch(/Breakpoint 1\.2, 0x[0-9a-f]+ in extract_kernel \(\)/);
    expect(r.stdout).toMatch(/rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <extract_kernel>/);
    expect(r.stderr).toMatch(/instruction [\d,]+, decompressor/);
  });

  it('breaks at the kernel\'s startup_64 (identity-mapped) and x86_64_start_kernel (KASLR-relocated)', async () => {
    const r = await gdb(['delete', 'break startup_64', 'break x86_64_start_kernel', 'continue', 'info registers rip', 'continue', 'info registers rip', 'monitor phase']);
    expect(r.stdout).toMatch(/Breakpoint 1\.\d, 0x[0-9a-f]+ in startup_64 \(\)/);
    expect(r.stdout).toMatch(/rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <x86_64_start_kernel>/);
    const e = run.kernelEntry!;
    expect(r.stderr).toContain(`startup_64 at 0x${e.startup64Phys.toString(16)}`);
  });

  it('reverse-stepi returns to the previous instruction, reverse-continue to the last breakpoint hit', async () => {
    const before = run.icount;
    const r1 = await gdb(['reverse-stepi', 'info registers', 'monitor icount']);
    expect(icountOf(r1.stderr).pop()).toBe(before - 1);
    expectSameRegisters(r1.stdout, before - 1);
    const entry = run.kernelEntry!.icount;
    const r2 = await gdb(['break startup_64', 'reverse-continue', 'info registers', 'monitor icount']);
    expect(r2.stdout).toMatch(/Breakpoint 1\.\d, 0x[0-9a-f]+ in startup_64 \(\)/);
    expect(icountOf(r2.stderr).pop()).toBe(entry);
    expectSameRegisters(r2.stdout, entry);
  });

  it('watches a location the decompressor writes, names the writer, and finds the previous write in reverse', async () => {
    const out = run.kernelEntry!.outputPhys + 0x100;
    const w = `*(long*)0x${out.toString(16)}`;
    const r = await gdb(['delete', 'monitor goto 0', 'maint flush register-cache', `watch ${w}`, 'continue', 'monitor icount', 'info registers', 'continue', 'monitor icount', 'reverse-continue', 'monitor icount', `monitor who-wrote 0x${out.toString(16)} 1`]);
    expect(r.stdout).toContain(`Hardware watchpoint 1: ${w}`);
    expect(r.stdout + r.stderr).toMatch(/written by the CPU at instruction [\d,]+: rip 0x[0-9a-f]+ <inflate_fast\+0x[0-9a-f]+ \(decompressor\)>/);
    const [, first, second, back] = icountOf(r.stderr);
    expectSameRegisters(r.stdout, first!);
    expect(second).toBeGreaterThan(first!);
    // Reverse: stopped before the write that the forward run stopped after.
    expect(back).toBe(second! - 1);
    expect(r.stderr).toMatch(new RegExp(`0x${out.toString(16)}.*the CPU at instruction ${(first! - 1).toLocaleString('en-US')}`));
  });

  it('Ctrl-C interrupts a running boot, and the next gdb finds the machine where it stopped', async () => {
    const r = await runGdb(session.server.address.port, ['delete', 'monitor goto 0', 'maint flush register-cache', 'continue', 'monitor icount'], { timeoutMs: 60_000, interruptWhen: () => session.target.isRunning });
    expect(r.stdout).toContain('Program received signal SIGINT');
    const n = icountOf(r.stderr).pop()!;
    const again = await gdb(['monitor icount']);
    expect(icountOf(again.stderr).pop()).toBe(n);
  });
});
