// Worker processes for sweeps. Each worker is a Node process (sweepWorker.ts)
// that receives the job once and then tasks one at a time. A worker that
// dies with a task in hand (killed with SIGKILL, out of memory, a crash in
// Node) is replaced and the task is given to the new one, up to
// `maxAttempts` times; an exception a task throws is its result (a bug in
// bootpath repeats, so it is not retried). Processes, not threads, so a
// runaway run can be killed (kill -9 <pid>) without losing the sweep.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SweepJob } from './sweepPlan.ts';

export interface PoolTask { id: string; msg: Record<string, unknown> }
/** A task that did not produce a result: `error` says why. */
export interface PoolFailure { failed: true; error: string }

export interface PoolOptions {
  workers: number;
  job: SweepJob;
  /** Attempts per task when its worker dies (≥ 1). */
  maxAttempts: number;
  /** Told each time a task is given to a new worker because the previous one died. */
  onRetry?: (task: PoolTask, why: string) => void;
}

interface Slot { child: ChildProcess; task: { t: PoolTask; attempt: number } | null; pid: number }

/** The run() in progress: its queue and where results go. */
interface Batch {
  queue: { t: PoolTask; attempt: number }[];
  finish(task: PoolTask, result: unknown): void;
  fail(e: Error): void;
  failed: boolean;
}

export class SweepPool {
  private slots: Slot[] = [];
  private batch: Batch | null = null;
  private closed = false;
  /** Workers that died since the last result: past a limit the workers cannot run at all (the batch fails). */
  private deaths = 0;

  constructor(private readonly o: PoolOptions) {}

  /** The worker processes' ids (tests and operators: `kill -9` one and the sweep carries on). */
  get pids(): number[] { return this.slots.map((s) => s.pid); }

  /**
   * Run `tasks` on the workers; `done` receives each task's result (or a
   * PoolFailure) as it arrives, in completion order. Resolves when all are
   * done; rejects if `done` throws. Workers are kept for the next run().
   */
  run(tasks: PoolTask[], done: (task: PoolTask, result: unknown) => void): Promise<void> {
    if (tasks.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let left = tasks.length;
      const batch: Batch = {
        queue: tasks.map((t) => ({ t, attempt: 1 })),
        failed: false,
        finish: (task, result) => {
          if (batch.failed) return;
          try { done(task, result); } catch (e) { batch.fail(e as Error); return; }
          if (--left === 0) { this.batch = null; resolve(); }
        },
        fail: (e) => { if (batch.failed) return; batch.failed = true; this.batch = null; reject(e); },
      };
      this.batch = batch;
      const n = Math.max(1, Math.min(this.o.workers, tasks.length));
      for (const s of this.slots) {
        if (s.child.exitCode !== null || s.child.signalCode !== null) this.spawn(s);
        this.feed(s);
      }
      for (let i = this.slots.length; i < n && batch.queue.length > 0; i++) {
        const s: Slot = { child: null as unknown as ChildProcess, task: null, pid: 0 };
        this.slots.push(s);
        this.spawn(s);
        this.feed(s);
      }
    });
  }

  private feed(s: Slot): void {
    const b = this.batch;
    if (!b || b.failed || s.task) return;
    const next = b.queue.shift();
    if (!next) return;
    s.task = next;
    s.child.send({ ...next.t.msg, id: next.t.id, attempt: next.attempt });
  }

  private spawn(s: Slot): void {
    const child = startWorker(this.o.job);
    s.child = child;
    s.pid = child.pid ?? 0;
    child.on('message', (m: { type: string; id: string; result?: unknown; error?: string }) => {
      if (s.child !== child) return;
      if (m.type === 'fatal') { this.batch?.fail(new Error(`sweep worker: ${m.error}`)); return; }
      if (m.type !== 'done' || !s.task || s.task.t.id !== m.id) return;
      const t = s.task.t;
      s.task = null;
      this.deaths = 0;
      this.batch?.finish(t, m.error !== undefined ? { failed: true, error: m.error } satisfies PoolFailure : m.result);
      this.feed(s);
    });
    child.on('exit', (code, signal) => {
      if (s.child !== child || this.closed) return;
      const lost = s.task;
      s.task = null;
      const why = signal ? `its worker was killed by ${signal}` : `its worker exited with code ${code}`;
      const b = this.batch;
      if (!b) return; // idle: run() starts a new one when there is work
      if (++this.deaths > this.o.maxAttempts * Math.max(2, this.o.workers) + 1) {
        b.fail(new Error(`sweep: workers keep dying before finishing any run (the last: ${why})`));
        return;
      }
      if (lost) {
        if (lost.attempt < this.o.maxAttempts) { this.o.onRetry?.(lost.t, why); b.queue.unshift({ t: lost.t, attempt: lost.attempt + 1 }); }
        else b.finish(lost.t, { failed: true, error: `${why} on each of ${lost.attempt} attempts` } satisfies PoolFailure);
      }
      // A new worker in its place (it prepares the job again); it takes the next task, the lost one first.
      if (this.batch && this.batch.queue.length > 0) { this.spawn(s); this.feed(s); }
    });
    child.on('error', () => { /* 'exit' follows */ });
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => new Promise<void>((resolve) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) { resolve(); return; }
      s.child.once('exit', () => resolve());
      s.child.kill('SIGTERM');
    })));
    this.slots = [];
  }
}

/** Fork a worker on sweepWorker (its .js when this code is compiled; its .ts through tsx's loader otherwise) and send it the job. */
function startWorker(job: SweepJob): ChildProcess {
  const self = import.meta.url;
  const compiled = self.endsWith('.js');
  const file = fileURLToPath(new URL(compiled ? './sweepWorker.js' : './sweepWorker.ts', self));
  const child = fork(file, [], {
    execArgv: compiled ? [] : ['--import', tsxLoader()],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: process.env,
  });
  child.send({ type: 'init', job });
  return child;
}

/** The URL of tsx's loader (what `node --import tsx` loads), so a worker runs TypeScript. */
function tsxLoader(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  try { if (meta.resolve) return meta.resolve('tsx'); } catch { /* fall through */ }
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}
