// The virtual clock: guest time is the retired-instruction count. Devices
// derive their time from it (nanoseconds at a nominal rate) and schedule
// events on it; nothing reads the host's clock.

export interface Clock {
  /** Instructions retired so far. */
  now(): number;
}

/** Nominal guest speed: instructions per guest nanosecond (1 = a 1 GHz-instruction CPU). */
export const INSTRUCTIONS_PER_NS = 1;

export function nanoseconds(clock: Clock): number {
  return clock.now() / INSTRUCTIONS_PER_NS;
}

interface Pending { at: number; seq: number; run: () => void }

/** Events on the virtual clock, run in (time, insertion) order when the machine reaches them. */
export class EventScheduler {
  private queue: Pending[] = [];
  private seq = 0;

  constructor(readonly clock: Clock) {}

  /** Run `fn` once the instruction count reaches `at`. */
  at(at: number, fn: () => void): void {
    this.queue.push({ at, seq: this.seq++, run: fn });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** The instruction count of the next event, or Infinity. */
  next(): number {
    return this.queue.length ? this.queue[0]!.at : Infinity;
  }

  /** Run every event due at or before the current count. */
  runDue(): void {
    const now = this.clock.now();
    while (this.queue.length && this.queue[0]!.at <= now) this.queue.shift()!.run();
  }

  get pending(): number { return this.queue.length; }
}
