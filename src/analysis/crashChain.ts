// The cause chain of a crashed boot: re-runs the same boot (same options,
// same hooks: the machine is deterministic) as often as the chain needs.
import { bootKexec, type BootResult } from './checkedBoot.ts';
import { describeAddress } from '../boot/phases.ts';
import type { BootOptions } from '../run/prepare.ts';
import { buildCauseChain, type CauseStep } from './causeChain.ts';
import { differsIn } from './imageDiff.ts';

/**
 * Explain a crash (a triple fault or an undelivered fault) of `result`, a run
 * of `opts`: the chain from the faulting instruction back to the write that
 * started it (re-running the same boot as often as it needs, with frames
 * tracked). Returns [] when the run did not crash.
 * `extra.window`: how far back to single-step looking for a register's
 * writer; `extra.maxSteps`: the longest chain followed.
 */
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
    codeCorrupted: (phys, len) => !!result.imageDiff && differsIn(result.imageDiff, phys, len), // a range or a shifted run
    ...extra,
  });
}
