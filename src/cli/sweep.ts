// `bootpath sweep`: a Xen scenario over a range of stale shared_info gfns,
// each run from a snapshot taken after loading, on worker threads; prints
// the classified table (see src/analysis/sweep.ts for the classes).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from './commands.ts';
import { parseOptions } from './options.ts';
import { UsageError } from './errors.ts';
import { parseCount } from './units.ts';
import { toJson } from './json.ts';
import { DEFAULT_SCENARIO_PATH } from '../xen/index.ts';
import { loadScenario } from '../xen/scenario.ts';
import { runSweep, formatSweepTable } from '../analysis/sweep.ts';

const USAGE = `usage: bootpath sweep --gfn-from <gfn> --gfn-to <gfn> [--step <n>] [--scenario <file>] [--kernel <bzImage>]
                      [--load bzImage64|legacy32] [--workers <n>] [--max-instructions <n>] [--json]
  Boots the scenario (default: the bundled default) once per gfn in [from, to] (inclusive, every --step),
  with the stale shared_info frame at that gfn; gfns are page numbers (0xec00 = 0xec00000).`;

export const sweep: Command = {
  name: 'sweep',
  summary: 'boot a Xen scenario with the stale shared_info at each gfn of a range; classify each run',
  async run(args) {
    const v = parseOptions(args, {
          scenario: { type: 'string' }, kernel: { type: 'string' }, load: { type: 'string' },
          'gfn-from': { type: 'string' }, 'gfn-to': { type: 'string' }, step: { type: 'string' },
          workers: { type: 'string' }, 'max-instructions': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
        }, USAGE);
    if (v.help) { process.stdout.write(USAGE + '\n'); return 0; }
    if (v['gfn-from'] === undefined || v['gfn-to'] === undefined) throw new UsageError(`--gfn-from and --gfn-to are required\n${USAGE}`);
    const from = parseCount(v['gfn-from'], '--gfn-from'), to = parseCount(v['gfn-to'], '--gfn-to');
    const step = v.step !== undefined ? parseCount(v.step, '--step') : 1;
    if (to < from) throw new UsageError('--gfn-to must be >= --gfn-from');
    if (step < 1) throw new UsageError('--step must be >= 1');
    if (v.load !== undefined && v.load !== 'bzImage64' && v.load !== 'legacy32') throw new UsageError(`--load must be bzImage64 or legacy32, not ${v.load}`);
    const scenarioFile = v.scenario !== undefined ? resolve(v.scenario) : DEFAULT_SCENARIO_PATH;
    loadScenario(scenarioFile); // bad files fail here, with the scenario's own errors
    const gfns: number[] = [];
    for (let g = from; g <= to; g += step) gfns.push(g);
    const workers = v.workers !== undefined ? parseCount(v.workers, '--workers') : Math.min(availableParallelism(), 8);
    const json = v.json === true;
    const res = await runSweep({
      scenarioFile, gfns,
      ...(v.kernel !== undefined ? { kernel: resolve(v.kernel) } : {}),
      ...(v.load !== undefined ? { load: v.load as 'bzImage64' | 'legacy32' } : {}),
      ...(v['max-instructions'] !== undefined ? { maxInstructions: parseCount(v['max-instructions'], '--max-instructions') } : {}),
    }, workers, json || !process.stderr.isTTY ? undefined : (r) => process.stderr.write(`\r[${r.gfn.toString(16)}: ${r.class}]   `));
    if (!json && process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(30) + '\r');
    if (json) process.stdout.write(JSON.stringify(toJson(res), null, 2) + '\n');
    else process.stdout.write(formatSweepTable(res) + '\n');
    return 0;
  },
};
