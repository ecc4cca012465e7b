// Drives a GdbStub the way gdb would, without sockets: frames requests,
// collects what the stub sends (acks and packets, run-length decoded) and
// waits for replies. Usable with any GdbTarget.
import { GdbStub, type StubOptions } from '../../src/debug/stub.ts';
import { framePacket, latin1, latin1Bytes } from '../../src/debug/packets.ts';
import type { GdbTarget } from '../../src/debug/target.ts';

/** Expands `c*n` runs the way gdb does (n - 29 more copies of the previous char). */
export function runLengthDecode(s: string): string {
  let out = '';
  for (let k = 0; k < s.length; k++) {
    if (s[k] === '*' && out.length > 0 && k + 1 < s.length) { out += out[out.length - 1]!.repeat(s.charCodeAt(k + 1) - 29); k++; }
    else out += s[k];
  }
  return out;
}

/** Splits stub output into '+', '-' and packet payloads ('$…#cs' checked and decoded). */
export function parseStubOutput(bytes: string): string[] {
  const out: string[] = [];
  let k = 0;
  while (k < bytes.length) {
    const c = bytes[k]!;
    if (c === '+' || c === '-') { out.push(c); k++; continue; }
    if (c !== '$') throw new Error(`unexpected byte ${c.charCodeAt(0)} from the stub at ${k}`);
    const end = bytes.indexOf('#', k);
    if (end < 0 || end + 3 > bytes.length) throw new Error('truncated packet from the stub');
    const body = bytes.slice(k + 1, end);
    let sum = 0;
    for (let j = 0; j < body.length; j++) sum = (sum + body.charCodeAt(j)) & 0xff;
    if (parseInt(bytes.slice(end + 1, end + 3), 16) !== sum) throw new Error(`bad checksum from the stub: ${bytes.slice(k, end + 3)}`);
    out.push('$' + runLengthDecode(body));
    k = end + 3;
  }
  return out;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export class StubHarness {
  readonly stub: GdbStub;
  /** Raw bytes the stub sent, not yet taken by take(). */
  private raw = '';
  closed = false;
  readonly logs: string[] = [];

  constructor(readonly target: GdbTarget, opts: Partial<StubOptions> = {}) {
    this.stub = new GdbStub({
      target,
      send: (b) => { this.raw += latin1(b); },
      close: () => { this.closed = true; },
      log: (l) => this.logs.push(l),
      ...opts,
    });
  }

  /** Feeds raw bytes (a string of latin1 chars) to the stub. */
  feed(bytes: string): void { this.stub.receive(latin1Bytes(bytes)); }

  /** Sends one framed packet. */
  send(payload: string): void { this.stub.receive(framePacket(payload)); }

  /** Everything sent since the last take: '+', '-' and '$payload' entries. */
  take(): string[] { const out = parseStubOutput(this.raw); this.raw = ''; return out; }

  /** Waits until a packet other than an O (console output) packet has come, or `ms` passed; returns all output. */
  async settle(ms = 1000): Promise<string[]> {
    const until = Date.now() + ms;
    for (;;) {
      await tick();
      const parts = parseStubOutput(this.raw);
      if (parts.some((p) => p.startsWith('$') && !/^\$O[0-9a-f]/.test(p)) || Date.now() > until) { this.raw = ''; return parts; }
    }
  }

  /** Sends a packet and returns the payloads of the replies (acks dropped): O packets, then the final reply. */
  async request(payload: string): Promise<string[]> {
    this.send(payload);
    return (await this.settle()).filter((p) => p.startsWith('$')).map((p) => p.slice(1));
  }

  /** The final reply to one request. */
  async reply(payload: string): Promise<string> {
    const r = await this.request(payload);
    if (r.length === 0) throw new Error(`no reply to ${payload}`);
    return r[r.length - 1]!;
  }

  /** Lets pending promises run without expecting a reply. */
  async idle(): Promise<void> { for (let k = 0; k < 5; k++) await tick(); }
}
