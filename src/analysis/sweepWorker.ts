// A sweep worker: resolves the scenario, prepares the kernel and a snapshot
// after loading once, then boots one gfn per message from that snapshot.
import { parentPort, workerData } from 'node:worker_threads';
import { loadScenario } from '../xen/scenario.ts';
import { resolveScenario } from '../xen/scenarioResolve.ts';
import { bootScenario, prepareScenario } from '../xen/bootScenario.ts';
import { classifyRun, type SweepJob } from './sweep.ts';

const port = parentPort!;
try {
  const job = (workerData as { job: SweepJob }).job;
  const spec = loadScenario(job.scenarioFile);
  const r = resolveScenario({ ...spec, ...(job.kernel ? { kernel: job.kernel } : {}), ...(job.load ? { load: job.load } : {}) });
  if (job.kernel) r.kernelPath = job.kernel;
  let t = Date.now();
  const pre = prepareScenario(r);
  const prepareMs = Date.now() - t;
  const k = pre.prepared.plan.segments.find((s) => s.name.startsWith('kernel')) ?? pre.prepared.plan.segments[0]!;
  const layout = { image: null as [number, number] | null, kernelSegment: [k.mem, k.mem + k.memsz] as [number, number], payloadBytes: pre.prepared.plan.kernel.bufsz, compression: String(pre.prepared.payload.compression), prepareMs, restoreMs: 0 };
  // The reference run: the same boot with no stale shared_info frame (where the new kernel lands when nothing interferes).
  const ref = bootScenario(r, { sharedInfoGpa: null, prepared: pre.prepared, snapshot: pre.snapshot, maxInstructions: job.maxInstructions });
  if (ref.image) layout.image = [ref.image.start, ref.image.end];
  port.postMessage({ type: 'ready', layout });
  port.on('message', (msg: { type: string; gfn: number }) => {
    try {
      t = Date.now();
      const run = bootScenario(r, { sharedInfoGpa: msg.gfn * 4096, prepared: pre.prepared, snapshot: pre.snapshot, maxInstructions: job.maxInstructions });
      const row = classifyRun(run, msg.gfn, Date.now() - t, ref);
      port.postMessage({ type: 'row', row, layout: { ...layout, image: run.image ? [run.image.start, run.image.end] : null } });
    } catch (e) {
      port.postMessage({ type: 'error', message: `gfn 0x${msg.gfn.toString(16)}: ${(e as Error).stack ?? e}` });
    }
  });
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).message });
}
