// Write a report file: the data gathered from a finished run, as one HTML
// page. The front ends call these after a boot (`bootpath boot --report`) or
// a scenario run (`bootpath repro --report`).
import { writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { prepareKexec, type BootOptions, type PreparedKexec } from '../run/prepare.ts';
import { scenarioBootOptions } from '../run/scenarioRun.ts';
import type { BootResult } from '../analysis/checkedBoot.ts';
import type { ScenarioRun } from '../analysis/scenarioBoot.ts';
import type { CauseStep } from '../analysis/causeChain.ts';
import type { ResolvedScenario } from '../xen/scenarioResolve.ts';
import { buildReportData, type ReportInput } from './reportData.ts';
import { reportHtml } from './page.ts';

/** Build the report of a finished run and write it to `file` (an HTML page). Returns its size in bytes. */
export function writeReport(file: string, input: ReportInput): number {
  const html = reportHtml(buildReportData(input));
  try {
    writeFileSync(file, html);
  } catch (e) {
    throw new InputError(`--report ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return Buffer.byteLength(html);
}

/** The command line as typed (for the report's header). */
export function commandLine(argv = process.argv.slice(2)): string {
  return ['bootpath', ...argv].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Boot options that keep the parsed kernel (the report draws vmlinux's segments from it); parsing once, not twice. */
export function keepPrepared(options: BootOptions): BootOptions & { prepared: PreparedKexec } {
  return options.prepared ? options as BootOptions & { prepared: PreparedKexec } : { ...options, prepared: prepareKexec(options) };
}

/** The parsed kernel of a scenario's boot, for ScenarioOverrides.prepared. */
export function scenarioPrepared(r: ResolvedScenario): PreparedKexec {
  return prepareKexec(scenarioBootOptions(r));
}

/** Write the report of a `bootpath boot` run (its options from keepPrepared). */
export function writeBootReport(file: string, options: BootOptions & { prepared: PreparedKexec }, r: BootResult, decompressorElf: string | null): number {
  const kernel = typeof options.kernel === 'string' ? options.kernel : options.prepared.kernelName;
  return writeReport(file, { title: `bootpath boot: ${kernel}, entry ${r.plan.entryPath}`, command: commandLine(), result: r, decompressorElf, elf: options.prepared.elf });
}

/** Write the report of a `bootpath repro` run. */
export function writeScenarioReport(file: string, run: ScenarioRun, prepared: PreparedKexec, o: { scenarioFile: string; fix: string | null; chain: CauseStep[]; chainNote: string; decompressorElf: string | null; explanation?: string | null }): number {
  return writeReport(file, {
    title: `bootpath repro: ${o.scenarioFile.split('/').pop()}${o.fix ? ` with --fix ${o.fix}` : ''}`, command: commandLine(), result: run.result,
    scenario: { run, file: o.scenarioFile, fix: o.fix }, chain: o.chain, chainNote: o.chainNote, explanation: o.explanation ?? null, decompressorElf: o.decompressorElf, elf: prepared.elf,
  });
}
