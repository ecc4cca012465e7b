// The virtual clock: guest time is the retired-instruction count. Devices
// derive their time from it (nanoseconds at a nominal rate) and schedule
// events on it; nothing reads the host's clock.
import { Stop, type Cpu } from '../../emulator/index.ts';

export interface Clock {
  /** Instructions retired so far. */
  now(): number;
}

/** Nominal guest speed: instructions per guest nanosecond (1 = a 1 GHz-instruction CPU). */
export const INSTRUCTIONS_PER_NS = 1;

export function nanoseconds(clock: Clock): number {
  return clock.now() / INSTRUCTIONS_PER_NS;
}

/**
 * Something to do at a point on the clock: a function, or an object whose
 * `fire` does it. State an event keeps between firings belongs in such an
 * object's fields: checkpoints restore objects reachable from the queue,
 * never a closure's variables.
 */
export type ScheduledEvent = (() => void) | { fire(): void };

interface Pending { at: number; seq: number; run: ScheduledEvent }

/** Events on the virtual clock, run in (time, insertion) order when the machine reaches them. */
export class EventScheduler {
  private queue: Pending[] = [];
  private seq = 0;

  constructor(readonly clock: Clock) {}

  /** Run `fn` once the instruction count reaches `at`. */
  at(at: number, ev: ScheduledEvent): void {
    this.queue.push({ at, seq: this.seq++, run: ev });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  /** The instruction count of the next event, or Infinity. */
  next(): number {
    return this.queue.length ? this.queue[0]!.at : Infinity;
  }

  /** Run every event due at or before the current count. */
  runDue(): void {
    const now = this.clock.now();
    while (this.queue.length && this.queue[0]!.at <= now) {
      const ev = this.queue.shift()!.run;
      if (typeof ev === 'function') ev(); else ev.fire();
    }
  }

  get pending(): number { return this.queue.length; }
}

/**
 * Run the CPU up to `budget` instructions, running scheduled events at their
 * exact instruction counts: an event due at count T runs before the
 * instruction with count T, when the run goes on from T. A run that stops at
 * T (its budget) has not run them yet — so going back to T shows memory as
 * it was before a hypervisor write at T, and a debugger's reverse stop at
 * that write lands before it, as for a CPU write.
 */
export function runWithEvents(c: Cpu, scheduler: EventScheduler, budget: number): Stop {
  const end = c.icount + budget;
  for (;;) {
    const left = end - c.icount;
    if (left <= 0) return Stop.Budget;
    // A request left from the last stop is spent (c.run clears it too); one an event makes now stops here,
    // before c.run would clear it (a debugger's watchpoint on a hypervisor write).
    c.stopRequested = false;
    scheduler.runDue();
    if (c.stopRequested) return Stop.Requested;
    const next = scheduler.next();
    const slice = Math.max(1, Math.min(left, next - c.icount));
    const stop = c.run(slice);
    if (stop !== Stop.Budget) return stop;
  }
}
