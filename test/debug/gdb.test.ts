// Real gdb against the stub and the fake target over TCP: what a user types
// at the (gdb) prompt, through the server, down to the target calls.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import net from 'node:net';
import { startGdbServer, type GdbServer } from '../../src/debug/server.ts';
import { FakeTarget } from './fakeTarget.ts';
import { runGdb } from './runGdb.ts';

let target: FakeTarget;
let server: GdbServer;
let logs: string[];

beforeEach(async () => {
  target = new FakeTarget();
  logs = [];
  server = await startGdbServer({ port: 0, target, log: (l) => logs.push(l) });
});
afterEach(async () => { await server.close(); });

const gdb = (commands: string[], opts?: Parameters<typeof runGdb>[2]) => runGdb(server.address.port, commands, opts);
const both = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

describe('gdb against the stub', () => {
  it('connects and shows registers: general, rip, cr3, xmm0, eflags, efer', async () => {
    const r = await gdb(['info registers', 'info registers rip', 'p/x $cr3', 'p $xmm0', 'p $eflags', 'p $cr0', 'p $efer', 'p/x $fs_base', 'p $mxcsr', 'p $st0', 'p $rip']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rax\s+0x1122334455667788\s+1234605616436508552$/m);
    expect(r.stdout).toMatch(/^rip\s+0x1000\s+0x1000$/m);
    expect(r.stdout).toMatch(/^k_gs_base\s+0x0/m);
    expect(r.stdout).toContain('$1 = 0x3000');
    expect(r.stdout).toContain('v4_int32 = {1, 2, 3, 4}');
    expect(r.stdout).toContain('$3 = [ PF ZF IF ]');
    expect(r.stdout).toContain('$4 = [ PE MP ET NE WP AM PG ]');
    expect(r.stdout).toContain('$5 = [ SCE LME LMA NXE ]');
    expect(r.stdout).toContain('$6 = 0x0');
    expect(r.stdout).toContain('$7 = [ IM DM ZM OM UM PM ]');
    expect(r.stdout).toContain('$8 = 0');
    expect(r.stdout).toContain('$9 = (void (*)()) 0x1000');
    expect(both(r)).not.toMatch(/too long|Remote 'g' packet|error/i);
  });

  it('reads and writes memory', async () => {
    const r = await gdb(['x/4xb 0x2004', 'set {char}0x2004 = 5', 'x/4xb 0x2004', 'set {int}0x3000 = 0x12345678', 'x/1xw 0x3000']);
    expect(r.stdout).toContain('0x2004:\t0x04\t0x05\t0x06\t0x07');
    expect(r.stdout).toContain('0x2004:\t0x05\t0x05\t0x06\t0x07');
    expect(r.stdout).toContain('0x3000:\t0x12345678');
    expect(target.mem[0x2004]).toBe(5);
  });

  it('sets a register', async () => {
    const r = await gdb(['set $rax = 0x42', 'set $cr3 = 0x5000', 'p $rax']);
    expect(r.stdout).toContain('$1 = 66');
    expect(target.reg('rax')).toBe(0x42n);
    expect(target.reg('cr3')).toBe(0x5000n);
  });

  it('stops at a breakpoint and steps an instruction', async () => {
    const r = await gdb(['break *0x1010', 'continue', 'p $pc', 'stepi', 'p $pc']);
    expect(r.stdout).toContain('Breakpoint 1, 0x0000000000001010 in ?? ()');
    expect(r.stdout).toContain('$1 = (void (*)()) 0x1010');
    expect(r.stdout).toContain('$2 = (void (*)()) 0x1011');
    expect(target.calls).toContain('insertPoint 0 1010 1');
    expect(target.calls.filter((c) => c.startsWith('resume'))).toEqual(['resume continue', 'resume step']);
  });

  it('uses a hardware breakpoint in rom', async () => {
    const r = await gdb(['break *0xf010', 'continue']);
    expect(target.calls).toContain('insertPoint 1 f010 1');
    expect(r.stdout).toContain('Breakpoint 1, 0x000000000000f010 in ?? ()');
  });

  it('stops at a watchpoint', async () => {
    const r = await gdb(['watch *(long*)0x2100', 'continue']);
    expect(target.calls).toContain('insertPoint 2 2100 8');
    expect(r.stdout).toContain('Hardware watchpoint 1: *(long*)0x2100');
    expect(r.stdout).toMatch(/Old value = 0\s+New value = 1/);
  });

  it('runs backwards to the start of history', async () => {
    const r = await gdb(['reverse-stepi', 'reverse-continue']);
    expect(r.stdout.match(/No more reverse-execution history\./g)?.length).toBe(2);
    expect(target.calls).toEqual(['resume reverse-step', 'resume reverse-continue', 'detach']);
  });

  it('passes monitor commands and shows their output and errors', async () => {
    const r = await gdb(['monitor foo', 'monitor bad']);
    expect(both(r)).toContain('foo: first line\nsecond line\n');
    expect(both(r)).toContain('unknown monitor command: bad');
    expect(target.calls).toContain('monitor foo');
  });

  it('takes the memory map for info mem', async () => {
    const r = await gdb(['info mem']);
    expect(r.stdout).toContain('Using memory regions provided by the target.');
    expect(r.stdout).toMatch(/0\s+y\s+0x0000000000000000 0x000000000000f000 rw nocache/);
    expect(r.stdout).toMatch(/1\s+y\s+0x000000000000f000 0x0000000000010000 ro nocache/);
  });

  it('shows a triple fault as SIGSEGV with its reason, and an exit', async () => {
    target.stops.push({ kind: 'signal', signal: 11, why: 'triple fault at rip 0x1000' }, { kind: 'exited', code: 3 });
    const r = await gdb(['continue', 'continue']);
    expect(both(r)).toContain('triple fault at rip 0x1000');
    expect(r.stdout).toContain('Program received signal SIGSEGV, Segmentation fault.');
    expect(r.stdout).toMatch(/exited with code 03/);
  });

  it('interrupts a running target on Ctrl-C', async () => {
    const r = await gdb(['continue', 'p $pc'], { interruptWhen: () => target.isRunning });
    expect(r.stdout).toContain('Program received signal SIGINT, Interrupt.');
    expect(r.stdout).toContain('$1 = (void (*)()) 0x1000');
    expect(target.calls).toEqual(['resume continue', 'interrupt', 'detach']);
  });

  it('detaches, and kills', async () => {
    const r = await gdb(['detach']);
    expect(r.stdout).toContain('[Inferior 1 (Remote target) detached]');
    expect(target.calls).toEqual(['detach']);
    const k = await gdb(['kill']);
    expect(k.stdout).toContain('[Inferior 1 (Remote target) killed]');
    expect(target.calls).toEqual(['detach', 'kill']);
  });
});

describe('the server', () => {
  it('refuses a second client while one is attached, and takes the next one after', async () => {
    const first = gdb(['continue'], { timeoutMs: 3000 }); // runs until gdb is killed
    for (let k = 0; k < 100 && !target.isRunning; k++) await new Promise((r) => setTimeout(r, 50));
    expect(target.isRunning).toBe(true);
    const second = await gdb(['info registers rip']);
    expect(second.stderr).toMatch(/Remote failure reply: E\.bootpath: another gdb \(127\.0\.0\.1:\d+\) is attached to this machine; detach it first/);
    expect(logs.some((l) => /refused 127\.0\.0\.1:\d+: 127\.0\.0\.1:\d+ is attached/.test(l))).toBe(true);
    await first;
    // the first gdb was killed mid-run: the target was interrupted and detached, and stays as it was
    expect(target.calls).toEqual(['resume continue', 'interrupt', 'detach']);
    const third = await gdb(['info registers rip']);
    expect(third.stdout).toMatch(/^rip\s+0x1000\s+0x1000$/m);
  }, 20_000);

  it('says which port is in use', async () => {
    const port = server.address.port;
    await expect(startGdbServer({ port, target: new FakeTarget() })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
  });

  it('lives through a client that sends junk and hangs up', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(server.address.port, '127.0.0.1', () => {
        s.write('$qSupported#37\x03\x03junk$$$#zz$m0,zzzzzzzzzzzzzzzzzzzzzzzz#00+-');
        s.write(Buffer.alloc(100_000, 0x41));
        setTimeout(() => s.destroy(), 100);
      });
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const r = await gdb(['p/x $cr3']);
    expect(r.stdout).toContain('$1 = 0x3000');
  });
});
