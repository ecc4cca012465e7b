// Framing of the remote protocol: checksums, acks, the interrupt byte,
// escapes, run-length encoding, and what happens to garbage and oversize input.
import { describe, it, expect } from 'vitest';
import { PacketDecoder, checksum, escapeBinary, framePacket, latin1, latin1Bytes, runLengthEncode, unescapeBinary, type FrameEvent } from '../../src/debug/packets.ts';
import { runLengthDecode } from './stubHarness.ts';

const feed = (d: PacketDecoder, s: string) => d.feed(latin1Bytes(s));
const framed = (payload: string) => latin1(framePacket(payload));

describe('framing', () => {
  it('frames a payload with its modulo-256 checksum', () => {
    expect(framed('OK')).toBe('$OK#9a');
    expect(framed('')).toBe('$#00');
    expect(framed('g')).toBe('$g#67');
    expect(checksum(latin1Bytes('\xff\xff'))).toBe(0xfe);
  });

  it('decodes packets, also split at every byte, with upper- or lowercase checksums', () => {
    const d = new PacketDecoder(64);
    expect(feed(d, '$g#67$m1000,4#8E')).toEqual([{ kind: 'packet', payload: 'g' }, { kind: 'packet', payload: 'm1000,4' }]);
    const events: FrameEvent[] = [];
    for (const c of '$qSupported:swbreak+#' + framed('qSupported:swbreak+').slice(-2)) events.push(...feed(d, c));
    expect(events).toEqual([{ kind: 'packet', payload: 'qSupported:swbreak+' }]);
  });

  it('reports a bad checksum, also one that is not hex', () => {
    const d = new PacketDecoder(64);
    expect(feed(d, '$g#68')).toEqual([{ kind: 'bad-checksum', payload: 'g' }]);
    expect(feed(d, '$g#zz')).toEqual([{ kind: 'bad-checksum', payload: 'g' }]);
    expect(feed(d, '$g#67')).toEqual([{ kind: 'packet', payload: 'g' }]); // and goes on
  });

  it('tells acks, naks and the interrupt byte apart; 0x03 inside a packet is data', () => {
    const d = new PacketDecoder(64);
    expect(feed(d, '+-\x03').map((e) => e.kind)).toEqual(['ack', 'nak', 'interrupt']);
    const x = 'X10,1:\x03';
    expect(feed(d, framed(x))).toEqual([{ kind: 'packet', payload: x }]);
  });

  it('drops garbage between packets and says how much', () => {
    const d = new PacketDecoder(64);
    expect(feed(d, 'hello$g#67junk')).toEqual([{ kind: 'garbage', bytes: 5 }, { kind: 'packet', payload: 'g' }, { kind: 'garbage', bytes: 4 }]);
  });

  it('takes a $ inside a packet as the start of a new one', () => {
    const d = new PacketDecoder(64);
    expect(feed(d, '$m10$g#67')).toEqual([{ kind: 'garbage', bytes: 4 }, { kind: 'packet', payload: 'g' }]);
  });

  it('reports an oversize packet without buffering it, and checks its checksum all the same', () => {
    const d = new PacketDecoder(16);
    const big = 'M0,100:' + '00'.repeat(0x100);
    expect(feed(d, framed(big))).toEqual([{ kind: 'oversize', length: big.length }]);
    expect(feed(d, '$' + big + '#00')[0]!.kind).toBe('bad-checksum');
    // a megabyte with no end: nothing comes out, nothing grows, and the next packet still parses
    const d2 = new PacketDecoder(16);
    expect(d2.feed(new Uint8Array(1 << 20).fill(0x41).map((v, k) => (k === 0 ? 0x24 : v)))).toEqual([]);
    expect(feed(d2, '#00$g#67').map((e) => e.kind)).toEqual(['bad-checksum', 'packet']);
    expect(feed(d, framed('x'.repeat(16)))).toEqual([{ kind: 'packet', payload: 'x'.repeat(16) }]);
  });
});

describe('binary escapes', () => {
  it('escapes # $ } * and round-trips every byte', () => {
    expect(latin1(escapeBinary(latin1Bytes('a#$}*b')))).toBe('a}\x03}\x04}]}\x0ab');
    const all = Uint8Array.from({ length: 256 }, (_, k) => k);
    const esc = escapeBinary(all);
    expect(esc.length).toBe(260);
    expect([...esc].filter((b) => b === 0x23 || b === 0x24 || b === 0x2a)).toEqual([]);
    expect(unescapeBinary(esc)).toEqual(all);
  });

  it('rejects data that ends in a lone }', () => {
    expect(unescapeBinary(latin1Bytes('ab}'))).toBeNull();
  });
});

describe('run-length encoding', () => {
  it('encodes runs as c*n and never uses # or $ as a count', () => {
    expect(runLengthEncode('0000')).toBe('0* ');
    expect(runLengthEncode('000')).toBe('000');
    expect(runLengthEncode('0'.repeat(7))).toBe('0*"0'); // 6 more copies would be '#'
    for (let n = 1; n <= 400; n++) {
      const s = 'a' + '0'.repeat(n) + 'ff' + '1'.repeat(n % 9);
      const enc = runLengthEncode(s);
      expect(enc).not.toMatch(/[#$]/);
      expect(runLengthDecode(enc)).toBe(s);
    }
  });

  it('keeps escape pairs whole', () => {
    const s = '}]}]}]]]]]]]x';
    expect(runLengthDecode(runLengthEncode(s))).toBe(s);
    expect(runLengthEncode(s).startsWith('}]}]}]')).toBe(true);
  });

  it('shrinks a register dump', () => {
    const g = '8877665544332211' + '0'.repeat(1200);
    expect(runLengthEncode(g).length).toBeLessThan(60);
  });
});
