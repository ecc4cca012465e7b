// gdb on the 2012 repro (the default Xen scenario): break at startup_64,
// see the corrupted bytes, go back to the instruction that copied them,
// ask who wrote them — down to the hypervisor's write — and let it crash.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadScenario } from '../../src/xen/scenario.ts';
import { resolveScenario } from '../../src/xen/scenarioResolve.ts';
import { DEFAULT_SCENARIO_PATH } from '../../src/xen/index.ts';
import { startScenario } from '../../src/run/scenarioRun.ts';
import { ImageCheck } from '../../src/analysis/imageCheck.ts';
import { bundledDecompressorElf } from '../../src/boot/bundled.ts';
import { bootSymbolLines, startDebugSession, type DebugSession } from '../../src/debug/session.ts';
import { kernelEntryOf } from '../../src/debug/monitor.ts';
import type { BootRun } from '../../src/run/bootRun.ts';
import { runGdb } from './runGdb.ts';

let session: DebugSession;
let run: BootRun;
let symbols: string[];

beforeAll(async () => {
  const r = resolveScenario(loadScenario(DEFAULT_SCENARIO_PATH));
  const check = new ImageCheck();
  const boot = startScenario(r, { until: null }, [check]);
  run = boot.run;
  const monitor = { imageCheck: check, xen: boot.xen(), scenario: { scenario: r, state: boot.state }, decompressorElf: bundledDecompressorElf(r.kernelPath) };
  session = await startDebugSession({ run, listen: '127.0.0.1:0', say: () => undefined, monitor, symbols: bootSymbolLines(run, monitor) });
  symbols = session.gdbCommand.match(/add-symbol-file [^']+/g)!;
});
afterAll(async () => { await session?.server.close(); });

const gdb = (commands: string[]) => runGdb(session.server.address.port, [...symbols, ...commands], { timeoutMs: 120_000 });
const hex = (n: number) => `0x${n.toString(16)}`;

describe('gdb on the 2012 repro', () => {
  it('from startup_64\'s corrupted bytes back to the copy that put them there and the hypervisor write before it', async () => {
    // The kernel's startup_64 (the decompressor has a startup_64 of its own), where the session's run ahead found it.
    const entry = kernelEntryOf({ run })!;
    const r1 = await gdb([`break *${hex(entry.startup64Phys)}`, 'continue', 'monitor phase']);
    expect(r1.stdout).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in startup_64 \(\)/);
    const e = run.kernelEntry!;
    expect(e.startup64Phys).toBe(entry.startup64Phys);
    // _text+0x28: a byte of the corrupted instruction stream whose value the copy changed (gdb's `watch` stops only on a change).
    const bad = e.outputPhys + 0x28;
    const r2 = await gdb([`x/4xb ${hex(bad)}`, `watch *(char*)${hex(bad)}`, 'reverse-continue', 'monitor icount', 'monitor disas 1', `monitor who-wrote ${hex(bad)} 2`, 'delete']);
    // Reverse: stopped before the write, at the decompressor's copy (parse_elf's memmove: rep movsq).
    expect(r2.stdout + r2.stderr).toMatch(/written by the CPU at instruction [\d,]+: rip 0x[0-9a-f]+ <[^>]+> rep movsq/);
    const src = await gdb(["info registers rsi", "monitor icount"]);
    const rsi = BigInt(/rsi\s+(0x[0-9a-f]+)/.exec(src.stdout)![1]!);
    // The copy reads what Xen wrote: who wrote the source bytes?
    const from = Number(rsi) + (bad % 8); // rep movsq: rsi is this iteration's source
    const r3 = await gdb([`monitor who-wrote ${hex(from)} 2`]);
    expect(r3.stderr).toMatch(/the hypervisor at instruction [\d,]+: vcpu_info\[0\]\.time\.tsc_timestamp/);
  });

  it('runs into the triple fault, steps back from it, and monitor chain ends at the hypervisor', async () => {
    const r = await gdb(['continue', 'monitor icount']);
    expect(r.stdout).toContain('Program received signal SIGSEGV');
    expect(r.stdout + r.stderr).toContain('triple fault');
    const crashAt = run.icount;
    // (how long this takes is measured by bench/reverse.ts, not here)
    const back = await session.target.resume('reverse-step');
    expect(back.kind).toBe('trap');
    expect(run.icount).toBe(crashAt - 1);
    await session.target.resume('step');
    const c = await gdb(['continue', 'monitor chain']);
    expect(c.stderr).toMatch(/last written by the hypervisor: vcpu_info\[0\]\.time\.pad0/);
  });
});
