// The cause chain of a crashed boot: re-runs the same boot (same options,
// same hooks: the machine is deterministic) as often as the chain needs.
import { bootKexec, describeAddress, type BootOptions, type BootResult } from '../boot/kexecBoot.ts';
import { buildCauseChain, type CauseStep } from './causeChain.ts';

/** Explain a crash (a triple fault or an undelivered fault) of `result`, a run of `opts`. Returns [] when it did not crash. */
export function crashCauseChain(opts: BootOptions, result: BootResult, extra: { window?: number; maxSteps?: number } = {}): CauseStep[] {
  const faultIcount = result.tripleFault?.state.icount ?? (result.outcome === 'crashed' ? result.instructions : undefined);
  if (faultIcount === undefined) return [];
  return buildCauseChain({
    faultIcount,
    rerun: (stopAt, prepare) => bootKexec({
      ...opts, serial: undefined, progress: undefined, maxInstructions: stopAt,
      prepare: (m, plan, ctx) => { opts.prepare?.(m, plan, ctx); prepare?.(m); },
    }).machine,
    describe: (a, at) => describeAddress(result, a, at),
    codeCorrupted: (phys, len) => (result.imageDiff?.ranges ?? []).some((r) => phys < r.phys + r.length && r.phys < phys + len),
    ...extra,
  });
}
