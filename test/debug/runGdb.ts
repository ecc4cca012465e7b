// Real gdb against a stub: `gdb -nx -batch` with -ex commands, killed after a timeout.
import { spawn } from 'node:child_process';

export const GDB = process.env.GDB ?? 'gdb';

export interface GdbRun { stdout: string; stderr: string; code: number | null }

export interface GdbRunOptions {
  timeoutMs?: number;
  /** An executable or ELF to load symbols from. */
  file?: string;
  interruptAfterMs?: number;
  interruptWhen?: () => boolean;
}

/**
 * Runs gdb in batch mode: `set architecture i386:x86-64`, `target remote
 * 127.0.0.1:<port>`, then `commands`, each as one -ex. `file` is loaded
 * first (symbols). gdb is killed (SIGKILL) after `timeoutMs` (default 10 s);
 * `code` is then null. A SIGINT, as a Ctrl-C at gdb's terminal (gdb then
 * sends 0x03 to a running target), goes once `interruptWhen` returns true
 * (polled every 20 ms; e.g. "the target runs"), or after `interruptAfterMs`.
 */
export function runGdb(port: number, commands: string[], opts: GdbRunOptions = {}): Promise<GdbRun> {
  // remotetimeout: monitor commands that re-run the boot (who-wrote, chain) take longer than gdb's default 2 s.
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', 'set remotetimeout 120'];
  if (opts.file) args.push(opts.file);
  args.push('-ex', 'set architecture i386:x86-64', '-ex', `target remote 127.0.0.1:${port}`);
  for (const c of commands) args.push('-ex', c);
  return new Promise((resolve, reject) => {
    const child = spawn(GDB, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    const interrupt = opts.interruptAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGINT'), opts.interruptAfterMs);
    const when = opts.interruptWhen;
    const poll = when === undefined ? undefined : setInterval(() => { if (when()) { clearInterval(poll); child.kill('SIGINT'); } }, 20);
    const done = () => { clearTimeout(timer); clearTimeout(interrupt); clearInterval(poll); };
    child.on('error', (e) => { done(); reject(e); });
    child.on('close', (code) => { done(); resolve({ stdout, stderr, code }); });
  });
}
