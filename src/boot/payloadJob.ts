// The host's work on a bzImage's payload, which a boot needs only once the
// guest's decompressor runs: decompressing it (the image oracle and its
// relocations, payload.ts) and decoding kallsyms in it (the kernel's symbols
// when no vmlinux or System.map is at hand). Started when the boot is
// prepared and done on a worker thread (payloadWorker.ts) while the machine
// is loaded and purgatory runs — for a distribution kernel that is seconds of
// the host's CPU off the path to the first guest instruction. The boot takes
// the answer at a fixed point of the run (BootRun: the decompressor's entry),
// so the run is the same whenever the answer came.
import { InputError } from '../errors.ts';
import { SyncWorkerCall, type SyncAnswer } from '../moduleWorker.ts';
import type { Compression } from './compression.ts';
import { findKallsyms } from './kallsyms.ts';
import { decompressPayloadBytes, type Payload } from './payload.ts';
import { SymbolTable, type NamedAddress } from './symbolTable.ts';

/** What the worker is given: the compressed payload and whether to decode kallsyms. */
export interface PayloadJob {
  payload: Uint8Array;
  compression: Compression;
  /** Names the kernel in errors. */
  file: string;
  kallsyms: boolean;
}

/** kallsyms as it crosses threads: names joined by newlines, one type letter each, the addresses. */
export type KallsymsAnswer = { names: string; types: string; addresses: BigUint64Array } | { error: string };

/** What the worker answers. */
export interface PayloadAnswer {
  payload: Payload;
  /** null when not asked for. */
  kallsyms: KallsymsAnswer | null;
}

/**
 * The job itself, on whichever thread: the answer and the buffers to move (not copy) to the caller. `movable`: the
 * answer is going to another thread, so the image must be in memory that moves without a copy.
 */
export function runPayloadJob(job: PayloadJob, movable = false): { value: PayloadAnswer; transfer: ArrayBuffer[] } {
  // Shared bytes are copied first, on this thread: the decompressors see memory of their own.
  const input = job.payload.buffer instanceof SharedArrayBuffer ? job.payload.slice() : job.payload;
  let payload = decompressPayloadBytes(input, job.compression, job.file);
  // @napi-rs/lzma's output (xz, lzma) is memory V8 cannot hand to another thread as it is: the receiving thread would
  // copy all of it (a quarter second for a distribution kernel) while it waits. Copied here instead, off its path.
  if (movable && (job.compression === 'xz' || job.compression === 'lzma')) payload = inOwnBuffer(payload);
  const transfer = [payload.decompressed.buffer as ArrayBuffer];
  if (payload.relocs) for (const a of [payload.relocs.relocs64, payload.relocs.inverse32, payload.relocs.relocs32]) transfer.push(a.buffer as ArrayBuffer);
  let kallsyms: KallsymsAnswer | null = null;
  if (job.kallsyms) {
    try {
      const k = findKallsyms(payload.elf);
      const addresses = BigUint64Array.from(k.symbols, (s) => s.address);
      kallsyms = { names: k.symbols.map((s) => s.name).join('\n'), types: k.symbols.map((s) => s.type).join(''), addresses };
      transfer.push(addresses.buffer);
    } catch (e) {
      kallsyms = { error: (e as Error).message };
    }
  }
  return { value: { payload, kallsyms }, transfer };
}

/** The payload with its image in a fresh ArrayBuffer (elf and relocsRaw views onto it, as before). */
function inOwnBuffer(p: Payload): Payload {
  const d = new Uint8Array(p.decompressed.length);
  d.set(p.decompressed);
  return { ...p, decompressed: d, elf: d.subarray(0, p.elf.length), relocsRaw: d.subarray(p.elf.length) };
}

/** kallsyms as a symbol table, or why there is none. */
export function kallsymsTable(k: KallsymsAnswer): SymbolTable | { error: string } {
  if ('error' in k) return k;
  const names = k.names === '' ? [] : k.names.split('\n');
  const list: NamedAddress[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) list[i] = { name: names[i]!, value: k.addresses[i]!, type: k.types[i]! };
  return new SymbolTable(list);
}

/** A job never asked for (its boot failed before it needed it): its worker, and the answer waiting in its port, go with it. */
const unanswered = new FinalizationRegistry<SyncWorkerCall<PayloadAnswer>>((call) => call.close());

/** How long to wait for the worker before doing the work here (it died, or cannot start). */
const WORKER_TIMEOUT_MS = 120_000;

/**
 * A payload job started now and answered later (`answer()`, which waits):
 * on a worker thread, or — `worker: false`, or when the worker gives no
 * answer in time — on this thread when first asked. Errors are the job's
 * own: InputError for a payload that does not decompress; a worker that
 * fails in any other way is an Error naming it.
 */
export class DeferredPayload {
  private call: SyncWorkerCall<PayloadAnswer> | null = null;
  private result: { answer: PayloadAnswer } | { error: Error } | null = null;

  constructor(private readonly job: PayloadJob, worker: boolean) {
    // Compressed bytes in shared memory (the kernel file as prepare.ts reads it) go to the worker as they are; others
    // as a copy of their own (a few MB): this thread keeps the kernel file whole.
    if (worker) {
      const shared = job.payload.buffer instanceof SharedArrayBuffer;
      const bytes = shared ? job.payload : job.payload.slice();
      this.call = new SyncWorkerCall(import.meta.url, './payloadWorker.ts', { ...job, payload: bytes }, shared ? [] : [bytes.buffer as ArrayBuffer]);
      unanswered.register(this, this.call, this);
    }
  }

  /** True once the answer is here (asked for, and worked out or received). */
  get settled(): boolean { return this.result !== null; }

  /** The answer, waiting for it if need be; throws the job's error. */
  answer(): PayloadAnswer {
    this.result ??= this.settle();
    if ('error' in this.result) throw this.result.error;
    return this.result.answer;
  }

  private settle(): { answer: PayloadAnswer } | { error: Error } {
    const call = this.call;
    this.call = null;
    unanswered.unregister(this);
    let a: SyncAnswer<PayloadAnswer> | null = null;
    if (call) {
      a = call.wait(WORKER_TIMEOUT_MS);
      if (a === null) process.emitWarning(`the payload worker gave no answer in ${WORKER_TIMEOUT_MS / 1000} s: decompressing ${this.job.file}'s payload on the main thread`);
    }
    if (a === null) {
      try { return { answer: runPayloadJob(this.job).value }; } catch (e) { return { error: e as Error }; }
    }
    if (a.ok) return { answer: a.value };
    const e = a.error;
    return { error: e.name === 'InputError' ? new InputError(e.message) : new Error(`payload worker: ${e.stack || e.message}`) };
  }
}
