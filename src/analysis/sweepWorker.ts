// A sweep worker process (started by sweepPool.ts): receives the job, then
// one task at a time — the reference run of a seed, or one run — and answers
// each with its result. Exceptions are answered as the task's error; the
// process exits when its parent goes away.
//
// Test-only: BOOTPATH_SWEEP_TEST_DIE="<how>:<gfn>[,<gfn>…]" makes the worker
// die in the middle of the run of each listed gfn (hex or decimal), on its
// first attempt only, so the retry can be tested deterministically. <how> is
// `kill` (the process sends itself SIGKILL, as `kill -9` would) or `exit`
// (process.exit(70), as a crash inside Node would end it). Nothing else reads
// the variable; never set it outside tests.
import { SweepExecutor } from './sweepExec.ts';
import type { PlannedRun, SweepJob, SweepReference } from './sweepPlan.ts';

type Msg =
  | { type: 'init'; job: SweepJob }
  | { type: 'reference'; id: string; attempt: number; seed: number }
  | { type: 'run'; id: string; attempt: number; run: PlannedRun; ref: SweepReference };

// The parent gone (killed with the sweep): nothing to answer to, end quietly.
const send = (m: unknown) => {
  if (!process.connected) process.exit(0);
  process.send!(m, undefined, undefined, (e) => { if (e) process.exit(0); });
};
let exec: SweepExecutor | null = null;
const die = testDie(process.env.BOOTPATH_SWEEP_TEST_DIE);

process.on('disconnect', () => process.exit(0));
process.on('error', () => process.exit(0)); // EPIPE on the IPC channel: the parent died
process.on('message', (m: Msg) => {
  if (m.type === 'init') {
    try { exec = new SweepExecutor(m.job); } catch (e) { send({ type: 'fatal', error: (e as Error).message }); process.exit(1); }
    return;
  }
  try {
    if (!exec) throw new Error('no job');
    if (m.type === 'reference') send({ type: 'done', id: m.id, result: exec.reference(m.seed) });
    else {
      const kill = die && m.attempt === 1 && die.gfns.has(m.run.gfn) ? die.how : null;
      const row = exec.run(m.run, m.ref, kill ? { midway: () => { if (kill === 'kill') process.kill(process.pid, 'SIGKILL'); else process.exit(70); } } : {});
      send({ type: 'done', id: m.id, result: row });
    }
  } catch (e) {
    send({ type: 'done', id: m.id, error: `exception: ${(e as Error).stack ?? e}` });
  }
});

function testDie(v: string | undefined): { how: 'kill' | 'exit'; gfns: Set<number> } | null {
  const m = v ? /^(kill|exit):(.+)$/.exec(v) : null;
  if (!m) return null;
  return { how: m[1] as 'kill' | 'exit', gfns: new Set(m[2]!.split(',').map((g) => Number(g.trim()))) };
}
