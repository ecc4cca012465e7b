// The protocol core against the fake target: every command, the run state
// (packets while a resume is pending, Ctrl-C, disconnects), and malformed
// input of every command getting an error or empty reply.
import { describe, it, expect } from 'vitest';
import { StubHarness } from './stubHarness.ts';
import { FakeTarget } from './fakeTarget.ts';
import { REGISTERS, REGISTER_BYTES, registerIndex } from '../../src/debug/registers.ts';
import { targetXml } from '../../src/debug/targetXml.ts';
import { escapeBinary, latin1, latin1Bytes, framePacket } from '../../src/debug/packets.ts';
import { textToHex, hexToText } from '../../src/debug/hex.ts';
import { TargetError, type StopReply } from '../../src/debug/target.ts';

function setup(opts: { features?: string } = {}) {
  const t = new FakeTarget();
  const h = new StubHarness(t);
  return { t, h, hello: () => h.reply(`qSupported:${opts.features ?? 'swbreak+;hwbreak+;vContSupported+'}`) };
}

describe('session', () => {
  it('advertises its features and packet size in qSupported', async () => {
    const { hello } = setup();
    const r = await hello();
    expect(r.split(';')).toEqual(['PacketSize=4000', 'qXfer:features:read+', 'qXfer:memory-map:read+', 'ReverseContinue+', 'ReverseStep+',
      'swbreak+', 'hwbreak+', 'QStartNoAckMode+', 'vContSupported+']);
  });

  it('acks good packets, naks bad ones, resends the last reply on -', async () => {
    const { h } = setup();
    h.send('qC');
    expect(await h.settle()).toEqual(['+', '$QC1']);
    h.feed('$qC#00');
    expect(await h.settle(50)).toEqual(['-']);
    h.feed('-');
    expect(await h.settle()).toEqual(['$QC1']);
  });

  it('stops acking after QStartNoAckMode (whose OK is still acked)', async () => {
    const { h } = setup();
    h.send('QStartNoAckMode');
    expect(await h.settle()).toEqual(['+', '$OK']);
    h.feed('+'); // gdb's ack of that OK
    h.send('qC');
    expect(await h.settle()).toEqual(['$QC1']);
    h.feed('$qC#00'); // bad checksum: dropped, no nak
    expect(await h.settle(50)).toEqual([]);
    h.feed('-');
    expect(await h.settle(50)).toEqual([]);
    expect(h.logs.join('\n')).toContain('bad checksum');
  });

  it('answers an oversize packet with an error and goes on', async () => {
    const { h } = setup();
    h.send('M0,4000:' + '00'.repeat(0x4000));
    const r = await h.settle();
    expect(r[0]).toBe('+');
    expect(r[1]).toMatch(/^\$E\.packet of \d+ bytes is longer than PacketSize 16384/);
    expect(await h.reply('qC')).toBe('QC1');
  });

  it('drops garbage between packets', async () => {
    const { h } = setup();
    h.feed('garbage!');
    expect(await h.reply('qC')).toBe('QC1');
    expect(h.logs).toContain('dropped 8 byte(s) of garbage between packets');
  });

  it('answers unknown packets and vMustReplyEmpty with an empty reply, matching q names whole', async () => {
    const { h } = setup();
    for (const p of ['vMustReplyEmpty', 'qTStatus', 'qCRC:0,10', 'qOffsets', 'Qfoo', 'vFile:open:0', '!', 'R00', 'b9600', 'y', '\x00']) expect(await h.reply(p)).toBe('');
  });

  it('refuses arguments to commands that take none', async () => {
    const { h, t } = setup();
    for (const p of ['?1', 'g0', 'qC:1', 'qfThreadInfo:x', 'qsThreadInfo,1', 'QStartNoAckMode:1', 'vCont?;c', 'bc1', 'bs;1']) expect(await h.reply(p), p).toMatch(/^E/);
    expect(t.calls).toEqual([]);
    h.send('qC');
    expect(await h.settle()).toEqual(['+', '$QC1']); // still in ack mode
  });

  it('reports a single thread, attached', async () => {
    const { h } = setup();
    expect(await h.reply('qAttached')).toBe('1');
    expect(await h.reply('qAttached:1')).toBe('1');
    expect(await h.reply('qC')).toBe('QC1');
    expect(await h.reply('qfThreadInfo')).toBe('m1');
    expect(await h.reply('qsThreadInfo')).toBe('l');
    for (const p of ['Hg0', 'Hc-1', 'Hg1', 'Hgp1.1', 'Hcp-1.-1', 'T1', 'Tp1.1']) expect(await h.reply(p)).toBe('OK');
    for (const p of ['Hg2', 'Hgzz', 'H', 'T2', 'T', 'Tx']) expect(await h.reply(p)).toMatch(/^E/);
  });

  it('says why the target is stopped', async () => {
    const { h, t } = setup();
    expect(await h.reply('?')).toBe('T05thread:1;');
    t.lastStop = { kind: 'interrupted' };
    expect(await h.reply('?')).toBe('T02thread:1;');
  });
});

describe('registers', () => {
  it('reads all registers in the 608-byte layout, run-length encoded on the wire', async () => {
    const { h } = setup();
    expect(REGISTERS.length).toBe(66);
    expect(REGISTER_BYTES).toBe(608);
    h.send('g');
    const out = await h.settle();
    const g = out[1]!.slice(1);
    expect(g.length).toBe(1216);
    expect(g.slice(0, 16)).toBe('8877665544332211');
    expect(g.slice(16 * 16, 16 * 17)).toBe('0010000000000000'); // rip 0x1000
    // the raw bytes on the wire were shorter: decoding happened in the harness
    const h2 = new StubHarness(new FakeTarget(), { runLength: false });
    h2.send('g');
    expect((await h2.settle())[1]!.length).toBe(1217);
  });

  it('reads and writes one register', async () => {
    const { h, t } = setup();
    expect(await h.reply('p10')).toBe('0010000000000000');
    expect(await h.reply(`p${registerIndex('cr3').toString(16)}`)).toBe('0030000000000000');
    expect(await h.reply(`p${registerIndex('xmm0').toString(16)}`)).toBe('01000000020000000300000004000000');
    expect(await h.reply('P0=0700000000000000')).toBe('OK');
    expect(t.reg('rax')).toBe(7n);
    expect(await h.reply(`P${registerIndex('eflags').toString(16)}=02000000`)).toBe('OK');
    expect(t.reg('eflags')).toBe(2n);
  });

  it('writes back only the registers a G changed', async () => {
    const { h, t } = setup();
    t.readOnly.add('cs');
    const g = await h.reply('g');
    const changed = 'ff' + g.slice(2);
    expect(await h.reply('G' + changed)).toBe('OK');
    expect(t.calls).toEqual(['writeRegister rax']);
    expect(t.reg('rax')).toBe(0x11223344556677ffn);
    const cs = REGISTERS.slice(0, registerIndex('cs')).reduce((n, r) => n + r.size * 2, 0);
    expect(await h.reply('G' + changed.slice(0, cs) + '11' + changed.slice(cs + 2))).toBe('E.cs is read-only here');
  });

  it('refuses bad register packets', async () => {
    const { h } = setup();
    for (const p of ['p', 'p42', 'pzz', 'p-1', 'P', 'P0', 'P0=', 'P0=00', 'P0=zz00000000000000', 'P42=00', 'Pq=00', 'G', 'G00', 'G' + '0'.repeat(1215) + 'z', 'g1']) {
      expect(await h.reply(p), p).toMatch(/^E/);
    }
  });

  it('turns a register of the wrong size from the target into an error reply', async () => {
    const t = new FakeTarget();
    t.readRegister = () => new Uint8Array(3);
    const h = new StubHarness(t);
    expect(await h.reply('p0')).toBe('E.the target gave 3 bytes for rax, which has 8');
    expect(await h.reply('g')).toMatch(/^E\./);
  });
});

describe('memory', () => {
  it('reads memory, fewer bytes where it ends, an error where none can be read', async () => {
    const { h } = setup();
    expect(await h.reply('m2004,4')).toBe('04050607');
    expect(await h.reply('mfffe,4')).toBe('0000');
    expect(await h.reply('m10000,4')).toBe('E01');
    expect(await h.reply('m2000,0')).toBe('');
  });

  it('gives E.text for m only to a gdb with the error-message feature', async () => {
    const { h, hello } = setup({ features: 'error-message+' });
    await hello();
    expect(await h.reply('m10000,4')).toBe('E.cannot read memory at 0x10000');
  });

  it('writes memory as hex (M) and as escaped binary (X)', async () => {
    const { h, t } = setup();
    expect(await h.reply('M100,3:aabbcc')).toBe('OK');
    expect([...t.mem.subarray(0x100, 0x103)]).toEqual([0xaa, 0xbb, 0xcc]);
    const data = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0x03, 0x00, 0xff]);
    expect(await h.reply(`X200,${data.length.toString(16)}:` + latin1(escapeBinary(data)))).toBe('OK');
    expect(t.mem.subarray(0x200, 0x207)).toEqual(data);
    expect(await h.reply('X200,0:')).toBe('OK'); // gdb's probe for X
    expect(await h.reply('M100,0:')).toBe('OK');
  });

  it('reports a write the target refuses', async () => {
    const { h } = setup();
    expect(await h.reply('Mf000,1:00')).toBe('E.cannot write 0xf000: rom or beyond memory');
    expect(await h.reply('Xf000,1:\x00')).toBe('E.cannot write 0xf000: rom or beyond memory');
  });

  it('refuses bad memory packets', async () => {
    const { h } = setup();
    const bad = ['m', 'm100', 'm100,', 'm,4', 'mzz,4', 'm100,zz', 'm100,2001', 'm10000000000000000,1', 'mffffffffffffffff,2', 'm100,4,5',
      'M', 'M100,2', 'M100,2:aa', 'M100,1:aabb', 'M100,1:zz', 'M100:aa', 'M100,4001:00',
      'X', 'X100,2', 'X100,2:a', 'X100,1:ab', 'X100,1:}', 'Xzz,1:a', 'X100:a'];
    for (const p of bad) expect(await h.reply(p), p).toMatch(/^E/);
  });
});

describe('run control', () => {
  it('continues and steps with c/s, C/S (signal ignored) and vCont', async () => {
    const { h, t } = setup();
    expect(await h.reply('s')).toBe('T05thread:1;');
    expect(await h.reply('S05')).toBe('T05thread:1;');
    expect(await h.reply('vCont;s:1')).toBe('T05thread:1;');
    expect(await h.reply('vCont;S0b:1;c')).toBe('T05thread:1;');
    expect(t.reg('rip')).toBe(0x1004n);
    t.stops.push({ kind: 'trap' }, { kind: 'trap' }, { kind: 'trap' });
    expect(await h.reply('c')).toBe('T05thread:1;');
    expect(await h.reply('C0b')).toBe('T05thread:1;');
    expect(await h.reply('vCont;c')).toBe('T05thread:1;');
    expect(t.calls.filter((c) => c.startsWith('resume'))).toEqual(['resume step', 'resume step', 'resume step', 'resume step', 'resume continue', 'resume continue', 'resume continue']);
  });

  it('takes the first vCont action that applies to thread 1', async () => {
    const { h, t } = setup();
    expect(await h.reply('vCont;c:2;s:1;c')).toBe('T05thread:1;');
    expect(await h.reply('vCont;s:p1.1;c')).toBe('T05thread:1;');
    expect(t.calls).toEqual(['resume step', 'resume step']);
    expect(await h.reply('vCont?')).toBe('vCont;c;C;s;S');
  });

  it('refuses an address on c/s/C/S and bad vCont actions', async () => {
    const { h, t } = setup();
    const bad = ['c1000', 's1000', 'C05;1000', 'S05;1000', 'C', 'Cxyz', 'S123', 'vCont', 'vCont;', 'vCont;t', 'vCont;r1000,2000', 'vCont;c:zz', 'vCont;c:2', 'vCont;x', 'bc1', 'bsx'];
    for (const p of bad) expect(await h.reply(p), p).toMatch(/^E/);
    expect(await h.reply('c1000')).toBe('E.resuming at an address is not supported: set rip first');
    expect(t.calls).toEqual([]);
  });

  it('runs backwards with bc/bs to the start of history', async () => {
    const { h, t } = setup();
    expect(await h.reply('bs')).toBe('T05replaylog:begin;thread:1;');
    expect(await h.reply('bc')).toBe('T05replaylog:begin;thread:1;');
    t.stops.push({ kind: 'history', end: 'end' });
    expect(await h.reply('c')).toBe('T05replaylog:end;thread:1;');
    expect(t.calls).toEqual(['resume reverse-step', 'resume reverse-continue', 'resume continue']);
  });

  it('encodes every kind of stop', async () => {
    const stops: Array<[StopReply, string[]]> = [
      [{ kind: 'breakpoint', hw: false }, ['T05swbreak:;thread:1;']],
      [{ kind: 'breakpoint', hw: true }, ['T05hwbreak:;thread:1;']],
      [{ kind: 'watch', access: 'watch', addr: 0x2100n }, ['T05watch:2100;thread:1;']],
      [{ kind: 'watch', access: 'rwatch', addr: 0xffffffff81000000n }, ['T05rwatch:ffffffff81000000;thread:1;']],
      [{ kind: 'watch', access: 'awatch', addr: 0n }, ['T05awatch:0;thread:1;']],
      [{ kind: 'interrupted' }, ['T02thread:1;']],
      [{ kind: 'signal', signal: 11 }, ['T0bthread:1;']],
      [{ kind: 'signal', signal: 11, why: 'triple fault' }, ['O' + textToHex('triple fault\n'), 'T0bthread:1;']],
      [{ kind: 'exited', code: 3 }, ['W03']],
    ];
    const { h, t, hello } = setup();
    await hello();
    for (const [stop, replies] of stops) {
      t.stops.push(stop);
      expect(await h.request('vCont;c')).toEqual(replies);
    }
  });

  it('reports breakpoints as plain T05 to a gdb that did not ask for swbreak/hwbreak', async () => {
    const { h, t } = setup();
    t.stops.push({ kind: 'breakpoint', hw: false }, { kind: 'breakpoint', hw: true });
    expect(await h.reply('c')).toBe('T05thread:1;');
    expect(await h.reply('c')).toBe('T05thread:1;');
  });

  it('turns a failing resume into an error reply', async () => {
    const { h, t } = setup();
    t.resume = () => Promise.reject(new TargetError('the machine has halted for good'));
    expect(await h.reply('c')).toBe('E.the machine has halted for good');
    t.resume = () => { throw new Error('boom'); };
    expect(await h.reply('s')).toBe('E.internal error: boom');
    expect(h.logs.some((l) => l.includes('boom'))).toBe(true);
    expect(await h.reply('qC')).toBe('QC1');
  });
});

describe('while the target runs', () => {
  it('acts on Ctrl-C and answers other packets after the stop', async () => {
    const { h, t } = setup();
    h.send('vCont;c');
    h.send('qC');
    h.send('m2004,1');
    await h.idle();
    expect(t.isRunning).toBe(true);
    expect(h.take()).toEqual(['+', '+', '+']); // acked, not answered
    h.feed('\x03');
    const out = (await h.settle()).filter((p) => p !== '+');
    expect(out[0]).toBe('$T02thread:1;');
    await h.idle();
    expect([...out.slice(1), ...h.take()]).toEqual(['$QC1', '$04']);
    expect(t.calls).toEqual(['resume continue', 'interrupt']);
  });

  it('ignores Ctrl-C while stopped', async () => {
    const { h, t } = setup();
    h.feed('\x03');
    expect(await h.reply('qC')).toBe('QC1');
    expect(t.calls).toEqual([]);
  });

  it('applies a Ctrl-C that comes right behind a queued resume', async () => {
    const { h, t } = setup();
    t.monitor = () => new Promise((r) => setTimeout(() => r('slow'), 20));
    h.send('qRcmd,' + textToHex('slow'));
    h.send('vCont;c');
    h.feed('\x03');
    const all: string[] = [];
    while (!all.includes('$T02thread:1;') && all.length < 20) all.push(...(await h.settle()));
    expect(all.filter((p) => p.startsWith('$')).slice(-2)).toEqual(['$OK', '$T02thread:1;']);
    expect(t.calls).toEqual(['resume continue', 'interrupt']);
  });

  it('on a disconnect mid-run: interrupts, waits for the stop, detaches', async () => {
    const { h, t } = setup();
    h.send('vCont;c'); // no points, nothing scripted: runs until interrupted
    await h.idle();
    expect(t.isRunning).toBe(true);
    await h.stub.disconnect();
    expect(t.isRunning).toBe(false);
    expect(t.calls.slice(-3)).toEqual(['resume continue', 'interrupt', 'detach']);
    expect(h.take().filter((p) => p.startsWith('$'))).toEqual([]); // nothing sent to a closed connection
  });
});

describe('breakpoints and watchpoints', () => {
  it('inserts and removes every type, any length', async () => {
    const { h, t } = setup();
    for (const type of [0, 1, 2, 3, 4]) expect(await h.reply(`Z${type},2000,${type === 0 ? 1 : 8}`)).toBe('OK');
    expect(await h.reply('Z2,ffffffff81000000,1000')).toBe('OK');
    expect(t.points.length).toBe(6);
    for (const type of [0, 1, 2, 3, 4]) expect(await h.reply(`z${type},2000,${type === 0 ? 1 : 8}`)).toBe('OK');
    expect(t.points).toEqual([{ type: 2, addr: 0xffffffff81000000n, len: 0x1000 }]);
  });

  it('answers empty for a type the target does not support, E for a refusal', async () => {
    const { h, t } = setup();
    t.unsupportedPoints.add(1);
    expect(await h.reply('Z1,2000,1')).toBe('');
    expect(await h.reply('Z5,2000,1')).toBe('');
    expect(await h.reply('z0,2000,1')).toBe('E.no point of type 0 at 0x2000');
  });

  it('refuses malformed Z/z packets', async () => {
    const { h, t } = setup();
    for (const p of ['Z', 'Z0', 'Z0,', 'Z0,2000', 'Z0,2000,', 'Zx,2000,1', 'Z0,zz,1', 'Z0,2000,zz', 'Z0,10000000000000000,1', 'z0,2000', 'z']) {
      expect(await h.reply(p), p).toMatch(/^E/);
    }
    expect(t.points).toEqual([]);
  });
});

describe('monitor commands', () => {
  it('sends the output as O packets, then OK', async () => {
    const { h, t } = setup();
    const r = await h.request('qRcmd,' + textToHex('foo'));
    expect(r.at(-1)).toBe('OK');
    expect(r.slice(0, -1).map((o) => hexToText(o.slice(1))).join('')).toBe('foo: first line\nsecond line\n');
    expect(await h.request('qRcmd,' + textToHex('quiet'))).toEqual(['OK']);
    expect(t.calls).toEqual(['monitor foo', 'monitor quiet']);
  });

  it('splits long output over several O packets', async () => {
    const { h, t } = setup();
    const long = 'x'.repeat(20000) + '\n';
    t.monitor = async () => long;
    const r = await h.request('qRcmd,' + textToHex('long'));
    expect(r.length).toBeGreaterThan(2);
    expect(r.slice(0, -1).map((o) => hexToText(o.slice(1))).join('')).toBe(long);
  });

  it('shows a bad command: the message and E01 for gdb before 15, E.text with error-message', async () => {
    const { h } = setup();
    const r = await h.request('qRcmd,' + textToHex('bad'));
    expect(r.map((o) => (o.startsWith('O') ? hexToText(o.slice(1)) : o))).toEqual(['unknown monitor command: bad\n', 'E01']);
    await h.reply('qSupported:error-message+');
    expect(await h.request('qRcmd,' + textToHex('bad'))).toEqual(['E.unknown monitor command: bad']);
  });

  it('refuses a command that is not hex', async () => {
    const { h } = setup();
    for (const p of ['qRcmd', 'qRcmd,', 'qRcmd,6', 'qRcmd,zz', 'qRcmd:666f6f']) expect(await h.reply(p), p).toMatch(/^E/);
  });
});

describe('qXfer', () => {
  it('serves target.xml in pieces (m … l)', async () => {
    const { h } = setup();
    let text = '', off = 0;
    for (;;) {
      const r = await h.reply(`qXfer:features:read:target.xml:${off.toString(16)},100`);
      expect(r[0]).toMatch(/[ml]/);
      text += r.slice(1);
      off += 0x100;
      if (r[0] === 'l') break;
    }
    expect(text).toBe(targetXml());
    expect(await h.reply(`qXfer:features:read:target.xml:${(0x100000).toString(16)},100`)).toBe('l');
  });

  it('serves the memory map from the target', async () => {
    const { h } = setup();
    const r = await h.reply('qXfer:memory-map:read::0,4000');
    expect(r[0]).toBe('l');
    expect(r).toContain('<memory type="ram" start="0x0" length="0xf000"/>');
    expect(r).toContain('<memory type="rom" start="0xf000" length="0x1000"/>');
  });

  it('E00 for an unknown annex or bad numbers, empty for objects it does not serve', async () => {
    const { h } = setup();
    expect(await h.reply('qXfer:features:read:other.xml:0,100')).toBe('E00');
    expect(await h.reply('qXfer:memory-map:read:x:0,100')).toBe('E00');
    expect(await h.reply('qXfer:features:read:target.xml:zz,100')).toBe('E00');
    expect(await h.reply('qXfer:features:read:target.xml:0')).toBe('E00');
    expect(await h.reply('qXfer:auxv:read::0,100')).toBe('');
    expect(await h.reply('qXfer:features:write:target.xml:0:abc')).toBe('');
    expect(await h.reply('qXfer')).toBe('');
  });
});

describe('ending a session', () => {
  it('D: detaches the target, answers OK, closes; a disconnect then does not detach again', async () => {
    const { h, t } = setup();
    expect(await h.reply('D')).toBe('OK');
    expect(h.closed).toBe(true);
    await h.stub.disconnect();
    expect(t.calls).toEqual(['detach']);
    h.send('qC');
    expect(await h.settle(50)).toEqual([]); // nothing more is handled
  });

  it('k: kills without a reply and closes; vKill answers OK', async () => {
    const { h, t } = setup();
    h.send('k');
    await h.idle();
    expect(h.take()).toEqual(['+']);
    expect(h.closed).toBe(true);
    await h.stub.disconnect();
    expect(t.calls).toEqual(['kill']);
    const s2 = setup();
    expect(await s2.h.reply('vKill;a410')).toBe('OK');
    expect(s2.t.calls).toEqual(['kill']);
  });

  it('a disconnect while stopped detaches', async () => {
    const { h, t } = setup();
    await h.stub.disconnect();
    expect(t.calls).toEqual(['detach']);
  });

  it('D with junk is refused', async () => {
    const { h, t } = setup();
    expect(await h.reply('Dx')).toMatch(/^E/);
    expect(t.calls).toEqual([]);
  });
});

describe('robustness', () => {
  it('survives a target that throws anything, and random bytes', async () => {
    const { h, t } = setup();
    t.readMemory = () => { throw new Error('bus fault'); };
    t.insertPoint = () => { throw 'not even an Error'; };
    expect(await h.reply('m0,1')).toBe('E.internal error: bus fault');
    expect(await h.reply('Z0,0,1')).toMatch(/^E\.internal error/);
    let seed = 1;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let k = 0; k < 200; k++) {
      const len = rnd() % 40;
      const body = Array.from({ length: len }, () => String.fromCharCode(rnd() % 128)).join('').replace(/[#$]/g, '');
      h.stub.receive(framePacket(body.replace(/\x03/g, '')));
      h.feed(String.fromCharCode(rnd() % 256));
    }
    await h.settle(100);
    expect(await h.reply('qC')).toBe('QC1');
    expect(latin1Bytes('ok').length).toBe(2);
  });
});
