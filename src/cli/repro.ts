// `bootpath repro`: the 2012 Xen kexec shared_info corruption on the
// bundled kernel. Boots the scenario (default: src/xen/scenarios/default.json)
// and prints the console, the Xen timeline, the xenctx-style dump, the image
// diff at startup_64 and the cause chain. `--fix` runs the same boot with a
// historical fix applied. Exit codes as `bootpath boot`: 0 reached,
// 1 crashed, 2 bad input, 3 hung, 4 budget.
import { relative } from 'node:path';
import type { Command } from './commands.ts';
import { ProgressLine } from './progress.ts';
import { parseOptions } from './options.ts';
import { UsageError } from './errors.ts';
import { jsonDocument } from './json.ts';
import { EXIT, resultData } from './boot.ts';
import { describeAddress } from '../boot/phases.ts';
import { codeAround, formatDump } from '../analysis/dump.ts';
import { formatImageDiff } from '../analysis/formatDiff.ts';
import { formatTimeline, timelineData } from '../analysis/timeline.ts';
import { crashCauseChain } from '../analysis/crashChain.ts';
import { formatCauseChain, type CauseStep } from '../analysis/causeChain.ts';
import { scenarioFile as resolveScenarioArg } from '../xen/index.ts';
import { loadScenario } from '../xen/scenario.ts';
import { resolveScenario } from '../xen/scenarioResolve.ts';
import { bootScenario } from '../analysis/scenarioBoot.ts';
import { startScenario } from '../run/scenarioRun.ts';
import { ImageCheck } from '../analysis/imageCheck.ts';
import { bundledDecompressorElf } from '../boot/bundled.ts';
import { serveGdb } from './gdb.ts';
import { scenarioPrepared, writeScenarioReport } from '../report/write.ts';
import { explainFailure, formatExplanation, scenarioCounterfactual } from '../analysis/explain.ts';
import { applyFix, FIXES, FIX_WHAT, type Fix } from '../xen/fixes.ts';

const USAGE = `usage: bootpath repro [--scenario <name|file>] [--fix mmio|e820-reserved|soft-reset] [--no-chain] [--explain] [--json] [--quiet] [--gdb [[host:]port]]
  Reproduces the 2012 Xen PVonHVM kexec crash (stale shared_info in the new kernel's memory) on the bundled kernel.
  --scenario default     Xen's time record lands on startup_64's code in the decompressed output (the default)
  --scenario 2012-shift  Xen's time record lands in the compressed input: the decompressor's output shifts by 8 bytes
                         and every marker around phys_base reads its neighbour (the report's shape on Linux 6.1)
  --fix mmio           Linux 00e37bdb: shared_info moved to the xen-platform MMIO BAR before kexec
  --fix e820-reserved  Linux 9d02b43d: shared_info at 0xFE700000 in the E820-reserved hole
  --fix soft-reset     Linux 0b34a166 / Xen 4.7: SHUTDOWN_soft_reset drops all of Xen's state before kexec
  --explain            also replay the boot without the hypervisor's writes: the minimal set that causes the failure
                       and the first instruction whose outcome differs (reaches past what the data-flow chain follows)
  --gdb [host:]port    wait for gdb before the first instruction (default 127.0.0.1:1234; docs/debugging.md)
  --report <file.html> also write a self-contained HTML report: memory map with the stale frames and Xen's writes,
                       timeline, image diff, cause chain, dump, console`;

export const repro: Command = {
  name: 'repro',
  summary: 'reproduce the 2012 Xen kexec shared_info crash (default scenario); --fix to boot it with a fix',
  async run(args) {
    const v = parseOptions(args, { scenario: { type: 'string' }, fix: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, 'no-chain': { type: 'boolean' }, help: { type: 'boolean' }, gdb: { type: 'string' }, explain: { type: 'boolean' }, report: { type: 'string' } }, USAGE);
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (v.fix !== undefined && !(FIXES as readonly string[]).includes(v.fix)) throw new UsageError(`--fix must be one of ${FIXES.join(', ')}, not ${v.fix}`);
    const fix = v.fix as Fix | undefined;
    const file = resolveScenarioArg(v.scenario);
    let spec = loadScenario(file);
    if (fix) spec = applyFix(spec, fix);
    const r = resolveScenario(spec);
    const json = v.json === true, quiet = v.quiet === true || json;
    if (v.gdb !== undefined) {
      const check = new ImageCheck();
      const boot = startScenario(r, { until: null, serial: (b) => process.stdout.write(Uint8Array.of(b)) }, [check]);
      return serveGdb(boot.run, v.gdb, { imageCheck: check, xen: boot.xen(), scenario: { scenario: r, state: boot.state }, decompressorElf: bundledDecompressorElf(r.kernelPath) });
    }
    const t0 = process.hrtime.bigint();
    const prepared = v.report !== undefined ? scenarioPrepared(r) : undefined;
    // Progress on a terminal only (never on a pipe or with --json): the boot's phase, then the slower explanations.
    const line = new ProgressLine(process.stderr.isTTY === true && !json);
    const run = bootScenario(r, {
      serial: quiet ? undefined : (b) => process.stdout.write(Uint8Array.of(b)), prepared,
      progress: (p) => line.show(`[boot: ${(p.instructions / 1e6).toFixed(0)}M instructions, ${p.phase}, ${line.elapsed.toFixed(0)} s]`),
    }, { layout: prepared !== undefined });
    line.clear();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const res = run.result;
    let chain: CauseStep[] = [];
    if (res.outcome === 'crashed' && v['no-chain'] !== true) { line.show('[cause chain: re-running the boot to follow the data back ...]'); chain = crashCauseChain(run.options, res); }
    if (v.explain) line.show('[explanation: replaying the boot without the hypervisor\'s writes ...]');
    const explanation = v.explain ? explainFailure(scenarioCounterfactual(r)) : null;
    line.clear();
    if (prepared) {
      const chainNote = res.outcome !== 'crashed' ? 'only for crashes' : v['no-chain'] ? 'skipped: --no-chain' : 'none found';
      writeScenarioReport(v.report!, run, prepared, { scenarioFile: relative(process.cwd(), file) || file, fix: fix ?? null, chain, chainNote, decompressorElf: bundledDecompressorElf(r.kernelPath), explanation: explanation && formatExplanation(explanation) });
    }
    if (json) {
      process.stdout.write(jsonDocument('repro', { scenario: file, fix: fix ?? null, ...resultData(res, seconds), xen: timelineData(run), causeChain: chain, explanation }));
      return EXIT[res.outcome];
    }
    const L: string[] = [];
    if (!res.console.endsWith('\n') && res.console !== '') L.push('');
    L.push(`scenario: ${relative(process.cwd(), file) || file}${fix ? ` with --fix ${fix}` : ''}`);
    if (fix) L.push(`fix:     ${FIX_WHAT[fix]}`);
    L.push(`outcome: ${res.outcome} — ${res.reason}${res.outcome !== 'reached' ? ` at ${describeAddress(res, res.state.rip)}` : ''}, after ${res.instructions.toLocaleString('en-US')} instructions (${seconds.toFixed(1)} s), in ${res.phase === 'kernel' ? 'the new kernel' : res.phase}`);
    if (res.kernelEntry) L.push(`kernel:  decompressed to 0x${res.kernelEntry.outputPhys.toString(16)}, startup_64 entered at instruction ${res.kernelEntry.icount.toLocaleString('en-US')}`);
    L.push(formatTimeline(run));
    if (res.imageDiff) L.push(formatImageDiff(res.imageDiff));
    else L.push('image:   not checked (the decompressor never jumped to startup_64)');
    if (res.tripleFault) {
      L.push(`triple fault at ${res.tripleFault.instruction}:`);
      for (const f of res.tripleFault.chain) L.push(`  #${f.vector}${f.errorCode >= 0 ? `(0x${f.errorCode.toString(16)})` : ''} ${f.detail}`);
    }
    if (res.outcome !== 'reached') {
      L.push('');
      L.push(formatDump(res.state, { describe: (a) => describeAddress(res, a) }, codeAround(res.machine.cpu, res.state.rip)).trimEnd());
      L.push('');
      L.push(res.outcome === 'crashed' ? (chain.length ? `cause chain:\n${formatCauseChain(chain)}` : (v['no-chain'] ? 'cause chain: (skipped: --no-chain)' : 'cause chain: (none found)')) : 'cause chain: (only for crashes)');
    }
    if (v.explain) {
      L.push('');
      L.push(explanation ? `counterfactual explanation:\n${formatExplanation(explanation)}` : 'counterfactual explanation: nothing to explain (the boot reached its target with an identical image)');
    }
    process.stdout.write(L.join('\n') + '\n');
    return EXIT[res.outcome];
  },
};
