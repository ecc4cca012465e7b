// `bootpath boot`: a kexec boot of a bzImage from purgatory's entry to
// x86_64_start_kernel (or --until), with the console, a progress line, the
// outcome, the image check against vmlinux and, on a crash or hang, a
// xenctx-style dump. Exit codes: 0 reached, 1 crashed, 2 bad input, 3 hung,
// 4 budget exhausted.
import type { Command } from './commands.ts';
import { parseOptions, parseJitOption } from './options.ts';
import { UsageError } from './errors.ts';
import { bootKexec, type BootResult } from '../analysis/checkedBoot.ts';
import { describeAddress } from '../boot/phases.ts';
import { DEFAULT_CMDLINE, DEFAULT_BUDGET, type BootOptions } from '../run/prepare.ts';
import { BootRun } from '../run/bootRun.ts';
import { ImageCheck } from '../analysis/imageCheck.ts';
import { codeAround, formatDump } from '../analysis/dump.ts';
import { formatImageDiff } from '../analysis/formatDiff.ts';
import { jsonDocument } from './json.ts';
import { parseSize, parseCount } from './units.ts';
import { BUNDLED_KERNEL, bundledDecompressorElf } from '../boot/bundled.ts';
// The gdb server and the HTML report are loaded only by the boots that use them (module loading is part of every boot's start).

const USAGE = `usage: bootpath boot [--kernel <bzImage>] [--vmlinux <file> | --system-map <file>] [--entry 64|32]
                     [--until <symbol|address|startup_64>] [--cmdline <text>] [--ram <size>]
                     [--max-instructions <n>] [--placement top-down|bottom-up|<address>]
                     [--kernel-alignment <n>] [--purgatory <file>] [--seed <n>] [--json] [--quiet]
                     [--gdb [[host:]port]] [--decompressor-elf <file>] [--report <file.html>] [--no-compile]
                     [--jit wasm|js]
  --kernel defaults to the bundled ${BUNDLED_KERNEL}
  --no-compile  every instruction in the interpreter (the block compiler off): the same run, slower
  --jit     the block compiler: wasm (WebAssembly, the default; js when the RAM below 4 GiB
            does not fit one WebAssembly.Memory) or js; the same run either way
  --report  also write a self-contained HTML report: memory map, timeline, image diff, dump, console
  --gdb     wait for gdb before the first instruction (default 127.0.0.1:1234; docs/debugging.md); --until is then optional`;

export const EXIT = { reached: 0, crashed: 1, hung: 3, budget: 4, exited: 0 } as const;

export const boot: Command = {
  name: 'boot',
  summary: 'kexec-boot a bzImage from purgatory to x86_64_start_kernel, check the image against vmlinux',
  async run(args) {
    const v = parseOptions(args, {
          kernel: { type: 'string' }, vmlinux: { type: 'string' }, 'system-map': { type: 'string' }, purgatory: { type: 'string' },
          entry: { type: 'string' }, until: { type: 'string' }, cmdline: { type: 'string' }, ram: { type: 'string' },
          'max-instructions': { type: 'string' }, placement: { type: 'string' }, 'kernel-alignment': { type: 'string' },
          seed: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
          gdb: { type: 'string' }, 'decompressor-elf': { type: 'string' }, report: { type: 'string' }, 'no-compile': { type: 'boolean' },
          jit: { type: 'string' },
        }, USAGE);
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    const jit = v.jit === undefined ? undefined : parseJitOption(v.jit);
    const entry = v.entry === undefined ? 64 : Number(v.entry);
    if (entry !== 64 && entry !== 32) throw new UsageError(`--entry must be 64 or 32, not ${v.entry}`);
    let placement: 'top-down' | 'bottom-up' | { address: number } | undefined;
    if (v.placement === 'top-down' || v.placement === 'bottom-up') placement = v.placement;
    else if (v.placement !== undefined) placement = { address: parseCount(v.placement, '--placement') };
    const json = v.json === true, quiet = v.quiet === true || json;
    const tty = process.stderr.isTTY && !json;
    const t0 = process.hrtime.bigint();
    let lastLine = '';
    const kernel = v.kernel ?? BUNDLED_KERNEL;
    const options: BootOptions = {
      kernel, vmlinux: v.vmlinux, systemMap: v['system-map'], purgatory: v.purgatory,
      entry, until: v.until, cmdline: v.cmdline ?? DEFAULT_CMDLINE,
      ramSize: v.ram !== undefined ? parseSize(v.ram, '--ram') : undefined,
      maxInstructions: v['max-instructions'] !== undefined ? parseCount(v['max-instructions'], '--max-instructions') : DEFAULT_BUDGET,
      placement, kernelAlignment: v['kernel-alignment'] !== undefined ? parseCount(v['kernel-alignment'], '--kernel-alignment') : undefined,
      seed: v.seed !== undefined ? parseCount(v.seed, '--seed') : undefined,
      ...(v['no-compile'] ? { compile: false } : {}),
      ...(jit !== undefined ? { jit } : {}),
      ...(v['decompressor-elf'] !== undefined ? { decompressorElf: v['decompressor-elf'] } : {}),
      serial: quiet ? undefined : (b) => process.stdout.write(Uint8Array.of(b)),
      progress: tty ? (p) => {
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        lastLine = `[${(p.instructions / 1e6).toFixed(0)}M instructions, ${(p.instructions / s / 1e6).toFixed(0)} MIPS, ${p.phase}]`;
        process.stderr.write(`\r${lastLine}`);
      } : undefined,
    };
    if (v.gdb !== undefined) {
      const { serveGdb } = await import('./gdb.ts');
      const check = new ImageCheck();
      const run = new BootRun({ ...options, until: v.until ?? null, progress: undefined }, [check]);
      return serveGdb(run, v.gdb, { imageCheck: check, purgatoryFile: v.purgatory, decompressorElf: v['decompressor-elf'] ?? bundledDecompressorElf(kernel) });
    }
    const html = v.report !== undefined ? await import('../report/write.ts') : null;
    const reportOptions = html ? html.keepPrepared(options) : null;
    // Test-only: make the machine fail inside the run at an instruction count (how internal errors are reported is tested with it).
    const failAt = process.env.BOOTPATH_TEST_FAIL_AT;
    if (failAt !== undefined) options.prepare = (m) => m.scheduler.at(Number(failAt), () => { throw new TypeError('injected by BOOTPATH_TEST_FAIL_AT'); });
    const r = bootKexec(reportOptions ?? options, { layout: json || reportOptions !== null }); // the decompressor ELF comes with the options
    if (html && reportOptions) html.writeBootReport(v.report!, reportOptions, r, v['decompressor-elf'] ?? bundledDecompressorElf(kernel));
    if (lastLine) process.stderr.write(`\r${' '.repeat(lastLine.length)}\r`);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (json) process.stdout.write(jsonDocument('boot', resultData(r, seconds)));
    else process.stdout.write((r.console.endsWith('\n') || r.console === '' ? '' : '\n') + report(r, seconds));
    return EXIT[r.outcome];
  },
};

/** The data of a boot result, for --json and the library. */
export function resultData(r: BootResult, seconds: number) {
  const code = r.outcome === 'crashed' || r.outcome === 'hung' ? codeAround(r.machine.cpu, r.state.rip) : null;
  return {
    outcome: r.outcome, reason: r.reason, phase: r.phase, instructions: r.instructions, seconds, mips: r.instructions / seconds / 1e6,
    target: r.target, console: r.console, vga: r.vga,
    phases: r.context.phaseStart,
    kernelEntry: r.kernelEntry,
    imageDiff: r.imageDiff && { ...r.imageDiff, ranges: r.imageDiff.ranges.slice(0, 100) },
    state: r.state,
    where: describeAddress(r, r.state.rip),
    code, tripleFault: r.tripleFault && { ...r.tripleFault, state: undefined }, hang: r.hang,
    load: { segments: r.plan.segments.map((s) => ({ name: s.name, address: s.mem, memsz: s.memsz, bufsz: s.bufsz })), entry: r.plan.entry, entryPath: r.plan.entryPath },
    symbols: r.symbols.source,
    layout: r.layout ?? null,
  };
}

function report(r: BootResult, seconds: number): string {
  const L: string[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  L.push(`outcome: ${r.outcome} — ${r.reason}${r.target ? ` (0x${r.target.address.toString(16)})` : ''}`);
  L.push(`         after ${n(r.instructions)} instructions in ${seconds.toFixed(1)} s (${(r.instructions / seconds / 1e6).toFixed(0)} MIPS), in ${r.phase === 'kernel' ? 'the new kernel' : r.phase}`);
  const ps = r.context.phaseStart;
  L.push(`phases:  purgatory at 0${ps.decompressor !== undefined ? `, decompressor at ${n(ps.decompressor)}` : ''}${ps.kernel !== undefined ? `, kernel (startup_64) at ${n(ps.kernel)}` : ''}`);
  if (r.kernelEntry) {
    const e = r.kernelEntry;
    L.push(`kernel:  decompressed to 0x${e.outputPhys.toString(16)}, startup_64 at 0x${e.startup64Phys.toString(16)}, KASLR virtual delta 0x${e.virtDelta.toString(16)}`);
  }
  if (r.imageDiff) L.push(formatImageDiff(r.imageDiff));
  if (r.tripleFault) {
    L.push(`triple fault at ${r.tripleFault.instruction}:`);
    for (const f of r.tripleFault.chain) L.push(`  #${f.vector}${f.errorCode >= 0 ? `(0x${f.errorCode.toString(16)})` : ''} ${f.detail}`);
  }
  if (r.outcome === 'crashed' || r.outcome === 'hung' || r.outcome === 'budget') {
    L.push('');
    L.push(formatDump(r.state, { describe: (a) => describeAddress(r, a) }, codeAround(r.machine.cpu, r.state.rip)).trimEnd());
  }
  L.push(`symbols: ${r.symbols.source}`);
  return L.join('\n') + '\n';
}
