// A debugging session on one boot: the run keeps checkpoints for reverse
// execution, the stub listens, and the user is told the exact gdb command
// line that attaches with every stage's symbols. The session ends when gdb
// kills the target ('k', gdb's `kill`) or the process is interrupted; a
// gdb that detaches or disconnects leaves the machine for the next one.
import type { BootRun } from '../run/bootRun.ts';
import type { MachineRun } from '../run/machineRun.ts';
import { InputError } from '../errors.ts';
import { startGdbServer, type GdbServer } from './server.ts';
import { BootTarget } from './bootTarget.ts';
import type { MonitorContext } from './monitor.ts';
import { kernelEntryOf } from './monitor.ts';
import { symbolFileLines, type SymbolFileLine } from './symbolFiles.ts';

export interface DebugSessionOptions {
  run: MachineRun;
  /** The symbol files gdb should load (bootSymbolLines for a kexec boot). */
  symbols: SymbolFileLine[];
  /** "[host:]port"; port 0 picks a free one. */
  listen: string;
  /** Where the session's own lines go (the CLI: stderr). */
  say: (line: string) => void;
  monitor?: Omit<MonitorContext, 'run' | 'target'>;
  /** Checkpoint spacing in instructions (reverse execution restores the nearest one and re-executes). */
  historyInterval?: number;
}

/**
 * The symbol lines of a kexec boot: purgatory, the decompressor and vmlinux.
 * vmlinux's KASLR offset comes from a deterministic run ahead to the
 * kernel's entry (skipped with noScout; `monitor symbols` then finds it).
 */
export function bootSymbolLines(run: BootRun, o: { purgatoryFile?: string; decompressorElf?: string | null; noScout?: boolean; say?: (line: string) => void }): SymbolFileLine[] {
  if (!o.noScout && run.symbols.elfFile && !run.kernelEntry) o.say?.('finding where the decompressor will put the kernel (a deterministic run ahead) ...');
  const entry = o.noScout ? run.kernelEntry : kernelEntryOf({ run });
  return symbolFileLines({
    plan: run.plan, elf: run.elf, purgatoryFile: o.purgatoryFile, decompressorElf: o.decompressorElf,
    vmlinuxFile: run.symbols.elfFile, kernelEntry: entry,
  });
}

export interface DebugSession { server: GdbServer; target: BootTarget; gdbCommand: string; ended: Promise<void> }

/** Parse "[host:]port" (an IPv6 host in brackets). */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new InputError(`--gdb ${s}: expected [host:]port with a port from 0 to 65535`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function startDebugSession(o: DebugSessionOptions): Promise<DebugSession> {
  const { host, port } = parseListen(o.listen);
  const run = o.run;
  run.enableHistory(o.historyInterval ?? 20_000_000);
  let ended!: () => void;
  const done = new Promise<void>((r) => { ended = r; });
  const target = new BootTarget(run, { monitor: { ...o.monitor, symbolLines: o.symbols } });
  const kill = target.kill.bind(target);
  target.kill = () => { kill(); setImmediate(ended); };
  // A guest that exits (a bare-metal program's exit port) ends the session as it ends QEMU: gdb has seen it exit.
  const resume = target.resume.bind(target);
  target.resume = async (action) => {
    const r = await resume(action);
    if (r.kind === 'exited') setTimeout(ended, 200);
    return r;
  };
  let server: GdbServer;
  try {
    // The session says where it listens itself (with the state and the command to attach): drop the server's own line.
    server = await startGdbServer({ host, port, target, log: (l) => { if (!/^gdb: listening on/.test(l)) o.say(l); } });
  } catch (e) {
    throw new InputError(`--gdb ${o.listen}: ${(e as Error).message}`);
  }
  const addr = `${server.address.host.includes(':') ? `[${server.address.host}]` : server.address.host}:${server.address.port}`;
  const lines = o.symbols;
  // remotetimeout: monitor chain and explain re-run the boot and take longer than gdb's default 2 s.
  const ex = ['set confirm off', 'set architecture i386:x86-64', 'set remotetimeout 120', `target remote ${addr}`, ...lines.filter((l) => l.command).map((l) => l.command)];
  const gdbCommand = `gdb -q ${ex.map((e) => `-ex ${quote(e)}`).join(' ')}`;
  o.say(`gdb stub listening on ${addr}; the run is stopped before its first instruction (${run.describe(run.machine.cpu.getRip())})`);
  o.say('attach with symbols for every stage:');
  o.say(`  ${gdbCommand}`);
  for (const l of lines) o.say(`  # ${l.stage}: ${l.note}`);
  o.say('inside gdb: monitor help. gdb\'s kill ends bootpath; detach leaves the boot for the next gdb.');
  return { server, target, gdbCommand, ended: done.then(() => server.close()) };
}
