// Framing of the gdb remote serial protocol, without sockets: `$payload#cs`
// packets with a modulo-256 checksum, the '+'/'-' acknowledgements, the
// interrupt byte (0x03 between packets), binary escapes (`}` then the byte
// xor 0x20) and run-length encoding of replies (`c*n`: n - 29 more copies).

/** What the byte stream from gdb turned into. */
export type FrameEvent =
  | { kind: 'packet'; payload: string }      // good checksum; the payload as latin1 text (one char per byte)
  | { kind: 'bad-checksum'; payload: string } // answer '-' so gdb sends it again
  | { kind: 'oversize'; length: number }     // good checksum, but longer than the limit: answer with an error
  | { kind: 'ack' }                          // '+'
  | { kind: 'nak' }                          // '-': resend the last packet
  | { kind: 'interrupt' }                    // 0x03 outside a packet (Ctrl-C)
  | { kind: 'garbage'; bytes: number };      // bytes dropped between packets, or a packet cut short by a new '$'

const DOLLAR = 0x24, HASH = 0x23, PLUS = 0x2b, MINUS = 0x2d, CTRL_C = 0x03, ESCAPE = 0x7d, STAR = 0x2a;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/** Turns received bytes into frame events, buffering at most `maxPayload` bytes of one packet. */
export class PacketDecoder {
  private state: 'idle' | 'data' | 'cs1' | 'cs2' = 'idle';
  private readonly buf: Uint8Array;
  private len = 0;        // payload bytes seen (may exceed the buffer: then the packet is oversize)
  private sum = 0;
  private cs1 = 0;
  private dropped = 0;    // garbage bytes in the current run

  constructor(readonly maxPayload: number) { this.buf = new Uint8Array(maxPayload); }

  feed(chunk: Uint8Array): FrameEvent[] {
    const out: FrameEvent[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'idle':
          if (b === DOLLAR) { this.flushGarbage(out); this.begin(); }
          else if (b === PLUS) { this.flushGarbage(out); out.push({ kind: 'ack' }); }
          else if (b === MINUS) { this.flushGarbage(out); out.push({ kind: 'nak' }); }
          else if (b === CTRL_C) { this.flushGarbage(out); out.push({ kind: 'interrupt' }); }
          else this.dropped++;
          break;
        case 'data':
          if (b === HASH) this.state = 'cs1';
          else if (b === DOLLAR) { this.dropped += this.len + 1; this.flushGarbage(out); this.begin(); } // '$' never occurs unescaped in a payload: a new packet
          else {
            if (this.len < this.buf.length) this.buf[this.len] = b;
            this.len++;
            this.sum = (this.sum + b) & 0xff;
          }
          break;
        case 'cs1':
          this.cs1 = b; this.state = 'cs2';
          break;
        case 'cs2': {
          this.state = 'idle';
          const hi = hexValue(this.cs1), lo = hexValue(b);
          const good = hi >= 0 && lo >= 0 && ((hi << 4) | lo) === this.sum;
          if (!good) out.push({ kind: 'bad-checksum', payload: latin1(this.buf.subarray(0, Math.min(this.len, this.buf.length))) });
          else if (this.len > this.buf.length) out.push({ kind: 'oversize', length: this.len });
          else out.push({ kind: 'packet', payload: latin1(this.buf.subarray(0, this.len)) });
          break;
        }
      }
    }
    this.flushGarbage(out);
    return out;
  }

  private begin(): void { this.state = 'data'; this.len = 0; this.sum = 0; }

  private flushGarbage(out: FrameEvent[]): void {
    if (this.dropped > 0) { out.push({ kind: 'garbage', bytes: this.dropped }); this.dropped = 0; }
  }
}

/** Bytes as latin1 text: one char per byte, lossless. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let k = 0; k < bytes.length; k += 0x2000) s += String.fromCharCode(...bytes.subarray(k, k + 0x2000));
  return s;
}

/** latin1 text back to bytes (char codes above 0xff are a caller's bug and are masked). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k) & 0xff;
  return out;
}

export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** `$payload#cs` for a payload already in protocol form (escaped where binary, `$#` never raw). */
export function framePacket(payload: string): Uint8Array {
  const body = latin1Bytes(payload);
  const out = new Uint8Array(body.length + 4);
  out[0] = DOLLAR;
  out.set(body, 1);
  const cs = checksum(body).toString(16).padStart(2, '0');
  out[body.length + 1] = HASH;
  out[body.length + 2] = cs.charCodeAt(0);
  out[body.length + 3] = cs.charCodeAt(1);
  return out;
}

const NEEDS_ESCAPE = new Set([HASH, DOLLAR, ESCAPE, STAR]);

/** Binary data for a reply: `#`, `$`, `}` and `*` become `}` and the byte xor 0x20. */
export function escapeBinary(data: Uint8Array): Uint8Array {
  let n = data.length;
  for (const b of data) if (NEEDS_ESCAPE.has(b)) n++;
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of data) {
    if (NEEDS_ESCAPE.has(b)) { out[o++] = ESCAPE; out[o++] = b ^ 0x20; } else out[o++] = b;
  }
  return out;
}

/** Binary data from a packet (X): undoes the escapes; null when it ends in a lone `}`. */
export function unescapeBinary(data: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(data.length);
  let o = 0;
  for (let k = 0; k < data.length; k++) {
    if (data[k] === ESCAPE) {
      if (++k >= data.length) return null;
      out[o++] = data[k]! ^ 0x20;
    } else out[o++] = data[k]!;
  }
  return out.subarray(0, o);
}

/** The largest repeat count a run may carry: the count char (n + 29) stays printable and below `}`. */
const MAX_REPEAT = 95;

/**
 * Run-length encodes a reply payload: a run of one char becomes the char,
 * `*` and a count char (more copies + 29). Counts of 6 and 7 would give the
 * framing chars `#` and `$` and are never used; escape pairs (`}x`) are
 * copied as they are.
 */
export function runLengthEncode(s: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '}') { out += s.slice(i, i + 2); i += 2; continue; }
    let n = 1;
    while (i + n < s.length && s[i + n] === c) n++;
    i += n;
    out += c;
    let more = n - 1;
    while (more > 0) {
      if (more < 3) { out += c.repeat(more); break; }
      let k = Math.min(more, MAX_REPEAT);
      if (k === 6 || k === 7) k = 5;
      out += '*' + String.fromCharCode(k + 29);
      more -= k;
      if (more > 0) { out += c; more--; }
    }
  }
  return out;
}
