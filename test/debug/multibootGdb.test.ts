// gdb on a bare-metal program (`bootpath multiboot --gdb`), and the CLI's
// clear errors around --gdb.
import { describe, it, expect } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { MultibootRun } from '../../src/run/multibootRun.ts';
import { startDebugSession } from '../../src/debug/session.ts';
import { build, buildDir } from '../system/firmware.ts';
import { runGdb } from './runGdb.ts';

const run = promisify(execFile);

describe('gdb on a multiboot program', () => {
  it('steps, disassembles in the current mode, and sees the guest exit with its status', async () => {
    const elf = await build('hello', buildDir());
    const console: number[] = [];
    const r = new MultibootRun({ elf: new Uint8Array(readFileSync(elf)), file: elf, serial: (b) => console.push(b) });
    const s = await startDebugSession({ run: r, listen: '127.0.0.1:0', say: () => undefined, symbols: [{ stage: 'program', command: `symbol-file ${elf}`, note: '' }] });
    try {
      const g = await runGdb(s.server.address.port, [`symbol-file ${elf}`, 'info registers rip', 'stepi', 'monitor disas 2', 'reverse-stepi', 'info registers rip', 'continue']);
      expect(g.stdout).toMatch(/rip\s+0x10000c\s+0x10000c <_start>/);
      expect(g.stderr).toContain('32-bit code:');
      expect(g.stderr).toMatch(/=> 0x10000d <[^>]+>: mov \$0x[0-9A-F]+,%esp/);
      expect(g.stdout).toMatch(/exited with code 041/); // QEMU's isa-debug-exit convention: (16 << 1) | 1
      expect(Buffer.from(console).toString('latin1')).toContain('hello from multiboot');
      await s.ended;
    } finally {
      await s.server.close();
    }
  });

  it('a port in use is a clear error, exit 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const elf = await build('hello', buildDir());
      const e = await run('node', ['bin/bootpath.js', 'multiboot', elf, '--gdb', `127.0.0.1:${port}`]).catch((x: { code: number; stderr: string }) => x);
      expect((e as { code: number }).code).toBe(2);
      expect((e as { stderr: string }).stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
      const bad = await run('node', ['bin/bootpath.js', 'boot', '--gdb', 'localhost:99999']).catch((x: { code: number; stderr: string }) => x);
      expect((bad as { code: number }).code).toBe(2);
      expect((bad as { stderr: string }).stderr).toContain('expected [host:]port');
    } finally {
      blocker.close();
    }
  });

  it('bootpath boot --gdb: a gdb that goes away mid-run leaves the boot for the next one; kill ends bootpath', async () => {
    const child = spawn('node', ['bin/bootpath.js', 'boot', '--entry', '32', '--gdb', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err); if (m) resolve(Number(m[1])); });
      child.on('exit', () => reject(new Error(`bootpath exited: ${err}`)));
    });
    // gdb killed while the boot runs (SIGKILL: no detach packet)
    const g = spawn('gdb', ['-nx', '-batch', '-ex', 'set architecture i386:x86-64', '-ex', `target remote 127.0.0.1:${port}`, '-ex', 'continue'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500));
    g.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const next = await runGdb(port, ['monitor icount', 'kill'], { timeoutMs: 30_000 });
    expect(next.stderr).toMatch(/instruction [\d,]+, (purgatory|decompressor|kernel)/);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(err).toContain('session ended');
  });
});
