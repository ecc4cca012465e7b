// `--gdb [host:]port` for boot and repro: instead of running to the end,
// the boot waits for gdb before its first instruction (src/debug/).
import { bootSymbolLines, startDebugSession } from '../debug/session.ts';
import { BootRun } from '../run/bootRun.ts';
import type { MachineRun } from '../run/machineRun.ts';
import type { SymbolFileLine } from '../debug/symbolFiles.ts';
import type { MonitorContext } from '../debug/monitor.ts';

/** Serve the run to gdb until gdb kills it or the process is interrupted; returns the exit code. */
export async function serveGdb(run: MachineRun, listen: string, monitor: Omit<MonitorContext, 'run' | 'target'>, symbols?: SymbolFileLine[]): Promise<number> {
  const say = (line: string) => process.stderr.write(`bootpath: ${line}\n`);
  const lines = symbols ?? (run instanceof BootRun ? bootSymbolLines(run, { ...monitor, say }) : []);
  const s = await startDebugSession({ run, listen, say, monitor, symbols: lines });
  await new Promise<void>((resolve) => {
    const stop = () => { say('interrupted: closing the gdb stub'); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void s.ended.then(() => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); });
  });
  await s.server.close();
  say(`session ended at instruction ${run.icount.toLocaleString('en-US')} (${run.outcome ?? 'running'}${run.outcome ? `: ${run.reason}` : ''})`);
  return run.outcome === 'exited' ? (run.machine.exitStatus ?? 0) & 0xff : 0;
}
