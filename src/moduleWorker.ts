// A worker thread on one of bootpath's own modules, whichever form the code
// runs in: compiled JavaScript (dist/, an installed package) loads the
// worker's .js directly; the TypeScript sources (a checkout, vitest) load it
// through tsx's loader, registered inside the worker first.
//
// Two ways to talk to one: messages (startModuleWorker; the caller listens on
// its event loop), and a synchronous call (SyncWorkerCall): the worker
// computes one answer while the calling thread goes on, and the caller later
// blocks until it is there (Atomics.wait on a shared word, then
// receiveMessageOnPort) — for work that overlaps a synchronous run, which
// never returns to the event loop.
import { MessageChannel, Worker, receiveMessageOnPort, workerData, type MessagePort, type Transferable } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Start a worker on `module` ('./sweepWorker.ts'), relative to the calling
 * module's `callerUrl` (its import.meta.url). A failure to load the module
 * arrives as a `{ type: 'error', message }` message, as the workers' own
 * errors do.
 */
export function startModuleWorker(callerUrl: string, module: string, workerData: unknown): Worker {
  const report = `(e) => { require('node:worker_threads').parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }); }`;
  return new Worker(bootCode(callerUrl, module, report), { eval: true, workerData });
}

/** The worker's bootstrap: import `module` (through tsx for TypeScript sources); `report` (JS source of a function) gets a failure to load it. */
function bootCode(callerUrl: string, module: string, report: string): string {
  const compiled = callerUrl.endsWith('.js');
  const url = new URL(compiled ? module.replace(/\.ts$/, '.js') : module, callerUrl).href;
  return compiled
    ? `import(${JSON.stringify(url)}).catch(${report});`
    : `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${JSON.stringify(url)}); }).catch(${report});`;
}

/** The URL of tsx's ESM API (its `register()` lets the worker import TypeScript). */
function tsxEsmApi(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  try { if (meta.resolve) return meta.resolve('tsx/esm/api'); } catch { /* fall through */ }
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api'); // …/dist/esm/api/index.cjs
  return pathToFileURL(cjs.replace(/index\.cjs$/, 'index.mjs')).href;
}

/** An error from a worker, as it crosses threads: its class name, message and stack. */
export interface WorkerError { name: string; message: string; stack: string }
/** What a synchronous call's worker answers. */
export type SyncAnswer<T> = { ok: true; value: T } | { ok: false; error: WorkerError };

/** What the worker of a SyncWorkerCall finds in workerData. */
interface SyncCallData { input: unknown; port: MessagePort; signal: Int32Array }

/**
 * One call into a worker thread on `module`, started at once, whose answer
 * the caller collects synchronously with `wait` — possibly long after, the
 * caller having done other work meanwhile. The module answers with
 * `answerSyncCall`. The worker never keeps the process alive.
 */
export class SyncWorkerCall<T> {
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private answer: SyncAnswer<T> | null = null;

  constructor(callerUrl: string, module: string, input: unknown, transferList: Transferable[] = []) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // A module that fails to load answers too (as an error), so the caller never waits for nothing.
    const report = `(e) => { const d = require('node:worker_threads').workerData;
      d.port.postMessage({ ok: false, error: { name: 'Error', message: 'cannot load the worker: ' + String(e && e.message || e), stack: String(e && e.stack || e) } });
      Atomics.store(d.signal, 0, 1); Atomics.notify(d.signal, 0); }`;
    const data: SyncCallData = { input, port: port2, signal: this.signal };
    this.worker = new Worker(bootCode(callerUrl, module, report), { eval: true, workerData: data, transferList: [port2, ...transferList] });
    this.worker.unref();
  }

  /**
   * The worker's answer, waiting for it at most `timeoutMs`: null when it has
   * not come by then (the worker died or hangs; it is stopped).
   */
  wait(timeoutMs: number): SyncAnswer<T> | null {
    if (this.answer) return this.answer;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      // The worker posts before it signals, so once signalled the message is there.
      if (left > 0) Atomics.wait(this.signal, 0, 0, Math.min(left, 1000));
      const m = receiveMessageOnPort(this.port);
      if (m) {
        this.answer = m.message as SyncAnswer<T>;
        this.close();
        return this.answer;
      }
      if (left <= 0) { this.close(); return null; }
    }
  }

  /** Stop the worker (its answer, if any comes later, is dropped). */
  close(): void {
    this.port.close();
    void this.worker.terminate();
  }
}

/**
 * The worker side of a SyncWorkerCall: compute the answer from the call's
 * input and post it, its `transfer` list moved rather than copied (a copy if
 * it cannot be moved). An exception becomes an error answer.
 */
export function answerSyncCall<I, O>(compute: (input: I) => { value: O; transfer?: Transferable[] }): void {
  const d = workerData as SyncCallData;
  let answer: SyncAnswer<O>, transfer: Transferable[] = [];
  try {
    const r = compute(d.input as I);
    answer = { ok: true, value: r.value };
    transfer = r.transfer ?? [];
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    answer = { ok: false, error: { name: err.constructor.name, message: err.message, stack: err.stack ?? '' } };
  }
  try { d.port.postMessage(answer, transfer); } catch { d.port.postMessage(answer); }
  Atomics.store(d.signal, 0, 1);
  Atomics.notify(d.signal, 0);
}
