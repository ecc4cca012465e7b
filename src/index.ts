// The library: `import { bootKexec } from 'bootpath'` (package.json exports
// this module, compiled to dist/src/index.js). Everything the `bootpath`
// command does is one of these calls; docs/library.md walks through them.
// The CPU core alone is `bootpath/emulator` (emulator/index.ts).
//
// Each export is documented where it is declared (test/package/tsdoc.test.ts
// checks that every function, class, option and result field here has its
// TSDoc).

// ---- one boot --------------------------------------------------------------------
export { bootKexec, type BootResult } from './analysis/checkedBoot.ts';
export { DEFAULT_CMDLINE, DEFAULT_BUDGET, prepareKexec, type BootOptions, type Progress, type PreparedKexec } from './run/prepare.ts';
export { DEFAULT_JIT, JIT_BACKENDS, type JitBackend } from './machine/jit.ts';
export { BootRun, type RunObserver, type RunResult, type Outcome, type RunStop, type WatchKind, type Watchpoint, type WatchHit } from './run/bootRun.ts';
export type { MachineRun, SliceObserver } from './run/machineRun.ts';
export { ImageCheck } from './analysis/imageCheck.ts';
export { describeAddress, type Phase, type KernelEntry, type BootContext } from './boot/phases.ts';
export { BUNDLED_KERNEL, BUNDLED_KERNEL_DIR, COMPRESSIONS } from './boot/bundled.ts';

// ---- CI: many boots checked on worker threads (bootpath check) -------------------------
export { runCheck, checkJobs, checkOne, jobName, type CheckJob, type CheckRow, type CheckResult, type CheckPlacement } from './analysis/check.ts';
export { checkJunit } from './report/junit.ts';

// ---- the HTML report (bootpath boot|repro --report) ------------------------------------
export { writeReport } from './report/write.ts';
export type { ReportInput } from './report/reportData.ts';

// ---- explaining a crash ------------------------------------------------------------
export { crashCauseChain } from './analysis/crashChain.ts';
export { formatCauseChain, type CauseStep, type CauseKind } from './analysis/causeChain.ts';

// ---- Xen scenarios -------------------------------------------------------------------
export { startScenario, type ScenarioBoot, type ScenarioOverrides } from './run/scenarioRun.ts';
export { bootScenario, type ScenarioRun } from './analysis/scenarioBoot.ts';
export { loadScenario, parseScenario, ScenarioError, type ScenarioSpec } from './xen/scenario.ts';
export { resolveScenario, type ResolvedScenario } from './xen/scenarioResolve.ts';
export { applyFix, FIXES, FIX_WHAT, type Fix } from './xen/fixes.ts';
export { DEFAULT_SCENARIO_PATH } from './xen/index.ts';

// ---- lower levels: the load plan, kernel files, the image diff -----------------------
export { planKexecLoad, type KexecLoadOptions, type LoadPlan, type PlanSegment } from './boot/kexec/plan.ts';
export { BUNDLED_PURGATORY } from './boot/kexec/purgatory.ts';
export { parseBzImage, type BzImage, type SetupHeader } from './boot/bzimage.ts';
export { decompressPayload, type Payload } from './boot/payload.ts';
export { readVmlinux, type Vmlinux } from './boot/vmlinux.ts';
export { findKallsyms, type Kallsyms } from './boot/kallsyms.ts';
export { diffImage, type ImageDiff, type ImageDiffInput, type DiffRange, type DiffShift } from './analysis/imageDiff.ts';
export { formatImageDiff } from './analysis/formatDiff.ts';

// ---- errors ------------------------------------------------------------------------------
export { InputError } from './errors.ts';
