// Time as the hypervisor reports it, derived from the virtual clock so the
// values look real and are deterministic:
//   system_time   = Xen system time in ns (since the domain started)
//                 = systemTimeAtStart + instructions x 1e9 / instructionsPerSecond
//   tsc_timestamp = the guest TSC = tscAtStart + instructions x tscPerInstruction
// tscPerInstruction must equal the CPU core's (emulator/cpu.ts option of the
// same name) so that a guest computing
//   system_time + (((tsc - tsc_timestamp) << tsc_shift) * mul) >> 32
// from RDTSC gets the same clock as Xen.

export interface ClockModel {
  /** Nominal guest speed: instructions per second of virtual time. */
  instructionsPerSecond: number;
  /** TSC ticks per retired instruction (an integer, as the CPU core models RDTSC). */
  tscPerInstruction: number;
  /** Guest TSC value at instruction 0 (the CPU core's TSC starts at 0 unless written). */
  tscAtStart: number;
  /** Xen system time (ns since the domain was created) at instruction 0: the first kernel's uptime at kexec. */
  systemTimeAtStart: number;
}

export const DEFAULT_CLOCK: ClockModel = {
  instructionsPerSecond: 1_000_000_000,
  tscPerInstruction: 3,
  tscAtStart: 0,
  systemTimeAtStart: 300_000_000_000,
};

/** Xen system time (ns) at an instruction count. */
export function systemTimeAt(c: ClockModel, icount: number): bigint {
  return BigInt(c.systemTimeAtStart) + (BigInt(icount) * 1_000_000_000n) / BigInt(c.instructionsPerSecond);
}

/** The guest TSC at an instruction count. */
export function tscAt(c: ClockModel, icount: number): bigint {
  return BigInt.asUintN(64, BigInt(c.tscAtStart) + BigInt(icount) * BigInt(c.tscPerInstruction));
}

/** Instruction count at which Xen system time reaches `ns` (rounded up; may be negative = before start). */
export function icountAtSystemTime(c: ClockModel, ns: number): number {
  return Math.ceil(((ns - c.systemTimeAtStart) * c.instructionsPerSecond) / 1e9);
}

/** Instructions in `ns` nanoseconds of virtual time. */
export function nsToInstructions(c: ClockModel, ns: number): number {
  return Math.round((ns * c.instructionsPerSecond) / 1e9);
}

export interface TimeScale {
  /** tsc_to_system_mul: a 32.32 fixed-point fraction. */
  mul: number;
  /** tsc_shift: applied to the TSC delta before the multiply (negative = right shift). */
  shift: number;
}

/**
 * The (mul, shift) pair for a TSC frequency, chosen as Xen chooses it
 * (xen/arch/x86/time.c, set_time_scale): shift the frequency into
 * (1e9, 2e9] and take mul = 1e9 * 2^32 / that.
 */
export function tscScale(tscHz: number): TimeScale {
  if (!(tscHz > 0)) throw new RangeError(`tscScale: bad frequency ${tscHz}`);
  let f = BigInt(Math.round(tscHz));
  let shift = 0;
  while (f > 2_000_000_000n) { f >>= 1n; shift--; }
  while (f <= 1_000_000_000n) { f <<= 1n; shift++; }
  const mul = Number((1_000_000_000n << 32n) / f);
  return { mul, shift };
}

/** Scale a TSC delta to ns with (mul, shift), as a guest does. */
export function scaleDelta(delta: bigint, s: TimeScale): bigint {
  const d = s.shift >= 0 ? delta << BigInt(s.shift) : delta >> BigInt(-s.shift);
  return (d * BigInt(s.mul)) >> 32n;
}

export const tscHzOf = (c: ClockModel) => c.tscPerInstruction * c.instructionsPerSecond;
