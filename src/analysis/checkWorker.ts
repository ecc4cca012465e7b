// A check worker: boots one job per message (check.ts) and posts its row.
import { parentPort } from 'node:worker_threads';
import { checkOne, type CheckJob } from './check.ts';

const port = parentPort!;
port.on('message', (msg: { type: string; job: CheckJob }) => {
  try {
    port.postMessage({ type: 'row', row: checkOne(msg.job) });
  } catch (e) {
    port.postMessage({ type: 'error', message: `${msg.job.kernel} (entry ${msg.job.entry}): ${(e as Error).stack ?? e}` });
  }
});
port.postMessage({ type: 'ready' });
