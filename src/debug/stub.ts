// One gdb session over any byte transport: framing and acks (packets.ts),
// the command table (commands.ts), and the run state. Packets are handled
// one at a time in arrival order. While a resume is pending only Ctrl-C
// (0x03) is acted on; other packets wait in a short queue and are answered
// after the stop reply (gdb sends none in all-stop mode while the target runs).
import { TargetError, type GdbTarget, type ResumeAction, type StopReply } from './target.ts';
import { COMMANDS, errorReply, packetName, stopReplyPayload, type Reply, type StubContext } from './commands.ts';
import { PacketDecoder, framePacket, runLengthEncode } from './packets.ts';
import { textToHex } from './hex.ts';

export interface StubOptions {
  target: GdbTarget;
  /** Bytes for gdb. */
  send: (bytes: Uint8Array) => void;
  /** Close the connection once what was sent has gone (after D, k, vKill). */
  close?: () => void;
  /** One line per notable event (errors, dropped input, session end). */
  log?: (line: string) => void;
  /** Every packet in and out, for protocol debugging. */
  trace?: (line: string) => void;
  /** Largest packet payload accepted and sent (PacketSize); default 0x4000. */
  packetSize?: number;
  /** Run-length encode hex replies (g, p, m); default true. */
  runLength?: boolean;
}

export const DEFAULT_PACKET_SIZE = 0x4000;
/** Packets that may wait behind a pending resume; more are dropped (gdb never sends this many). */
const MAX_QUEUED = 64;
/** Replies that are hex digits and worth run-length encoding. */
const HEX_REPLIES = new Set(['g', 'p', 'm']);

const ACK = new Uint8Array([0x2b]), NAK = new Uint8Array([0x2d]);

export class GdbStub implements StubContext {
  readonly target: GdbTarget;
  readonly packetSize: number;
  readonly clientFeatures = new Set<string>();
  /** After QStartNoAckMode: no '+'/'-' either way. */
  noAck = false;
  private noAckAfterReply = false;
  private readonly decoder: PacketDecoder;
  private readonly queue: Array<{ payload: string } | { oversize: number }> = [];
  /** A Ctrl-C that came while packets were still queued: it applies to the resume among them. */
  private interruptQueued = false;
  private pump: Promise<void> | null = null;
  private pendingResume: Promise<StopReply> | null = null;
  private lastPacket: Uint8Array | null = null;
  /** No more packets are handled (D, k, or the connection went away). */
  private ended = false;
  private endedBy: 'detach' | 'kill' | null = null;
  private transportOpen = true;
  private readonly runLength: boolean;

  constructor(private readonly opts: StubOptions) {
    this.target = opts.target;
    this.packetSize = opts.packetSize ?? DEFAULT_PACKET_SIZE;
    this.runLength = opts.runLength ?? true;
    this.decoder = new PacketDecoder(this.packetSize);
  }

  /** True while a resume is pending (the target runs). */
  get running(): boolean { return this.pendingResume !== null; }

  /** Bytes from gdb. Never throws. */
  receive(chunk: Uint8Array): void {
    if (this.ended) return;
    for (const ev of this.decoder.feed(chunk)) {
      switch (ev.kind) {
        case 'ack': break;
        case 'nak': if (!this.noAck && this.lastPacket) this.write(this.lastPacket); break;
        case 'interrupt':
          this.opts.trace?.('<- ^C');
          if (this.pendingResume) this.callTarget(() => this.target.interrupt());
          else if (this.queue.length > 0 || this.pump) this.interruptQueued = true;
          break;
        case 'garbage': this.log(`dropped ${ev.bytes} byte(s) of garbage between packets`); break;
        case 'bad-checksum':
          this.opts.trace?.(`<- bad checksum: ${ev.payload.slice(0, 80)}`);
          if (this.noAck) this.log('dropped a packet with a bad checksum (no-ack mode)');
          else this.write(NAK);
          break;
        case 'oversize':
          if (!this.noAck) this.write(ACK);
          this.log(`refused a ${ev.length}-byte packet (PacketSize is ${this.packetSize})`);
          this.enqueue({ oversize: ev.length });
          break;
        case 'packet':
          if (!this.noAck) this.write(ACK);
          this.opts.trace?.(`<- ${ev.payload.slice(0, 200)}`);
          this.enqueue({ payload: ev.payload });
          break;
      }
    }
  }

  /**
   * The connection is gone: stop a running target (interrupt, and wait for
   * the pending resume to settle), then detach it unless D or k ended the
   * session already. The machine stays as it is for the next client.
   */
  async disconnect(): Promise<void> {
    this.transportOpen = false;
    this.ended = true;
    this.queue.length = 0;
    const pending = this.pendingResume;
    if (pending) {
      this.callTarget(() => this.target.interrupt());
      const slow = setTimeout(() => this.log('still waiting for the target to stop after the client went away'), 2000);
      await pending.catch(() => undefined);
      clearTimeout(slow);
    }
    await this.pump?.catch(() => undefined);
    if (this.endedBy === null) { this.endedBy = 'detach'; this.callTarget(() => this.target.detach()); }
  }

  // StubContext

  startNoAck(): void { this.noAckAfterReply = true; }

  async resume(action: ResumeAction): Promise<string> {
    const pending = this.target.resume(action);
    this.pendingResume = pending;
    if (this.interruptQueued) { this.interruptQueued = false; this.callTarget(() => this.target.interrupt()); }
    let stop: StopReply;
    try { stop = await pending; } finally { this.pendingResume = null; }
    if (stop.why) this.output(stop.why.endsWith('\n') ? stop.why : stop.why + '\n');
    return stopReplyPayload(stop, this.clientFeatures);
  }

  output(text: string): void {
    const hex = textToHex(text);
    const chunk = (this.packetSize - 1) & ~1;
    for (let k = 0; k < hex.length; k += chunk) this.sendPacket('O' + hex.slice(k, k + chunk));
  }

  end(how: 'detach' | 'kill'): void {
    this.ended = true;
    this.queue.length = 0;
    this.endedBy = how;
    this.callTarget(() => (how === 'kill' ? this.target.kill() : this.target.detach()));
    this.log(how === 'kill' ? 'gdb killed the session' : 'gdb detached');
  }

  // internals

  /** Queues a packet (or an oversize one, answered with an error) and handles the queue in order. */
  private enqueue(item: { payload: string } | { oversize: number }): void {
    if (this.queue.length >= MAX_QUEUED) { this.log(`dropped a packet: ${MAX_QUEUED} already wait`); return; }
    this.queue.push(item);
    if (this.pump === null) this.startPump();
  }

  private startPump(): void {
    this.pump = this.drain()
      .catch((e) => this.log(`internal error: ${(e as Error).stack ?? e}`))
      .finally(() => {
        this.pump = null;
        if (this.queue.length > 0 && !this.ended) this.startPump(); // came in after drain() returned
        else this.interruptQueued = false;
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.ended) {
      const item = this.queue.shift()!;
      if ('oversize' in item) { this.sendPacket(errorReply(`packet of ${item.oversize} bytes is longer than PacketSize ${this.packetSize}`)); continue; }
      const name = packetName(item.payload);
      const reply = await this.handle(item.payload);
      if (reply !== null) this.sendPacket(reply, HEX_REPLIES.has(name) && !reply.startsWith('E'));
      if (this.noAckAfterReply) { this.noAckAfterReply = false; this.noAck = true; }
      if (this.ended && this.endedBy !== null) { this.transportOpen = false; this.opts.close?.(); }
    }
  }

  private async handle(payload: string): Promise<Reply> {
    const handler = COMMANDS.get(packetName(payload));
    if (!handler) return '';
    try {
      return await handler(this, payload.slice(packetName(payload).length));
    } catch (e) {
      if (e instanceof TargetError) return errorReply(e.message);
      this.log(`${packetName(payload)} failed: ${(e as Error).stack ?? e}`);
      return errorReply(`internal error: ${(e as Error).message ?? e}`);
    }
  }

  private sendPacket(payload: string, runLength = false): void {
    const body = runLength && this.runLength ? runLengthEncode(payload) : payload;
    this.opts.trace?.(`-> ${payload.slice(0, 200)}`);
    const bytes = framePacket(body);
    this.lastPacket = bytes;
    this.write(bytes);
  }

  private write(bytes: Uint8Array): void {
    if (!this.transportOpen) return;
    try { this.opts.send(bytes); } catch (e) { this.log(`send failed: ${(e as Error).message}`); }
  }

  private callTarget(f: () => void): void {
    try { f(); } catch (e) { this.log(`target: ${(e as Error).message}`); }
  }

  private log(line: string): void { this.opts.log?.(line); }
}
