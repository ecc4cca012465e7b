// The payload's work on a worker thread (boot/payloadJob.ts): the same answer
// as on the calling thread, its errors surface as errors (never a wait for
// nothing), and a boot waits for it at one fixed point, so it is the same
// run whenever the worker finishes.
import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBzImage } from '../../src/boot/bzimage.ts';
import { DeferredPayload, kallsymsTable } from '../../src/boot/payloadJob.ts';
import { SyncWorkerCall } from '../../src/moduleWorker.ts';
import { prepareKexec } from '../../src/run/prepare.ts';
import { bootKexec } from '../../src/analysis/checkedBoot.ts';
import { InputError } from '../../src/errors.ts';
import { SymbolTable } from '../../src/boot/symbolTable.ts';
import { readTiny, tinyBzImagePath } from './tinyKernel.ts';

const job = (c: 'xz' | 'gzip', bytes = new Uint8Array(readTiny(`bzImage.${c}`))) => {
  const bz = parseBzImage(bytes, `bzImage.${c}`);
  return { payload: bz.payload, compression: bz.compression, file: bz.file, kallsyms: true };
};

describe('DeferredPayload', () => {
  it.each(['xz', 'gzip'] as const)('answers the same on a worker thread as on this one (%s)', (c) => {
    const here = new DeferredPayload(job(c), false).answer();
    const there = new DeferredPayload(job(c), true).answer();
    expect(Buffer.compare(there.payload.decompressed, here.payload.decompressed)).toBe(0);
    expect(there.payload.elf.length).toBe(here.payload.elf.length);
    expect(there.payload.relocs).toEqual(here.payload.relocs);
    expect(there.payload.appendedSize).toBe(here.payload.appendedSize);
    const a = kallsymsTable(there.kallsyms!) as SymbolTable, b = kallsymsTable(here.kallsyms!) as SymbolTable;
    expect(a).toBeInstanceOf(SymbolTable);
    expect(a.size).toBe(b.size);
    expect(a.lookup('x86_64_start_kernel')).toBe(b.lookup('x86_64_start_kernel'));
    const at = a.lookup('x86_64_start_kernel')! + 5n;
    expect(a.describe(at)).toBe(b.describe(at));
    expect(a.describe(at)).toBe('x86_64_start_kernel+0x5');
  });

  it('reports a payload that does not decompress as the InputError it is, from the worker too', () => {
    const d = new Uint8Array(readTiny('bzImage.gzip'));
    const bz = parseBzImage(d, 'x');
    d[bz.payloadFileOffset + (bz.payload.length >> 1)]! ^= 0xff;
    for (const worker of [true, false]) {
      const p = new DeferredPayload(job('gzip', d), worker);
      expect(() => p.answer()).toThrow(InputError);
      expect(() => p.answer()).toThrow(/gzip payload/); // the same error again, not a second wait
    }
  });
});

describe('SyncWorkerCall', () => {
  it('answers a module that cannot be loaded with an error at once', () => {
    const t0 = Date.now();
    const a = new SyncWorkerCall(import.meta.url, './no-such-worker.ts', null).wait(60_000);
    expect(a?.ok).toBe(false);
    expect(a && !a.ok && a.error.message).toMatch(/cannot load the worker/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});

describe('a boot with its payload on a worker thread', () => {
  it('is the same run as with the payload worked out on the calling thread', () => {
    // A copy without a vmlinux or System.map beside it: symbols from kallsyms, the default target looked up late.
    const dir = mkdtempSync(join(tmpdir(), 'bootpath-deferred-'));
    const kernel = join(dir, 'bzImage');
    copyFileSync(tinyBzImagePath('lz4'), kernel);
    const opts = { kernel, decompressorElf: null, ramSize: 256 << 20 };
    const a = bootKexec({ ...opts, prepared: prepareKexec(opts, { worker: true }) });
    const b = bootKexec({ ...opts, prepared: prepareKexec(opts, { worker: false }) });
    expect(a.outcome).toBe('reached');
    expect(a.symbols.source).toMatch(/kallsyms/);
    expect(a.instructions).toBe(b.instructions);
    expect(a.context.phaseStart).toEqual(b.context.phaseStart);
    expect(a.imageDiff?.bytesDiffering).toBe(0);
    expect(a.state).toEqual(b.state);
  }, 300_000);

  it('fails with the payload\'s InputError when the payload does not decompress', () => {
    const d = new Uint8Array(readFileSync(tinyBzImagePath('gzip')));
    const bz = parseBzImage(d, 'x');
    d[bz.payloadFileOffset + (bz.payload.length >> 1)]! ^= 0xff;
    expect(() => bootKexec({ kernel: d, kernelName: 'corrupt.bzImage', ramSize: 256 << 20 })).toThrow(/corrupt\.bzImage: gzip payload/);
  }, 300_000);
});
