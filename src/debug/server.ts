// The gdb stub on TCP: one client at a time. A second client while one is
// attached gets an error reply gdb shows ("Remote failure reply: E.…") and
// is closed. A client that goes away leaves the machine stopped and
// detached (stub.ts disconnect) for the next one. Socket errors and bad
// input are logged, never thrown.
import net from 'node:net';
import { GdbStub, type StubOptions } from './stub.ts';
import { PacketDecoder, framePacket } from './packets.ts';
import { errorReply } from './commands.ts';
import type { GdbTarget } from './target.ts';

export interface GdbServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (see `address`). */
  port: number;
  target: GdbTarget;
  log?: (line: string) => void;
  /** Every packet in and out. */
  trace?: (line: string) => void;
  packetSize?: number;
}

export interface GdbServer {
  readonly address: { host: string; port: number };
  /** Stop listening, drop the client (its session ends as on a disconnect) and wait for that. */
  close(): Promise<void>;
}

/** How long a new client waits for the attached one's queued close before it is refused. */
const CLOSE_GRACE_MS = 300;

/** How long a refused client gets to send its first packet before it is closed anyway. */
const REFUSE_WAIT_MS = 2000;

const peer = (s: net.Socket) => `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`;

export function startGdbServer(opts: GdbServerOptions): Promise<GdbServer> {
  const host = opts.host ?? '127.0.0.1';
  const log = (line: string) => opts.log?.(`gdb: ${line}`);
  let client: net.Socket | null = null;          // the attached client
  let teardown: Promise<void> = Promise.resolve(); // the last session's disconnect
  const refused = new Set<net.Socket>();

  const refuse = (socket: net.Socket) => {
    const who = peer(socket);
    log(`refused ${who}: ${client ? peer(client) : 'another client'} is attached`);
    refused.add(socket);
    const message = `bootpath: another gdb (${client ? peer(client) : '?'}) is attached to this machine; detach it first`;
    const decoder = new PacketDecoder(0x4000);
    let done = false;
    const answer = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (socket.destroyed) return;
      socket.end(Buffer.concat([Buffer.from('+'), framePacket(errorReply(message))]));
      setTimeout(() => socket.destroy(), REFUSE_WAIT_MS).unref(); // a client that does not close its side
    };
    // Answer gdb's first packet (qSupported), so that it prints the message, then close.
    const timer = setTimeout(answer, REFUSE_WAIT_MS);
    socket.on('data', (d: Buffer) => { if (decoder.feed(d).some((e) => e.kind === 'packet' || e.kind === 'oversize')) answer(); });
    socket.on('error', () => undefined);
    socket.on('close', () => { clearTimeout(timer); refused.delete(socket); });
  };

  const attach = (socket: net.Socket) => {
    client = socket;
    const who = peer(socket);
    log(`client ${who} attached`);
    const stubOptions: StubOptions = {
      target: opts.target,
      send: (bytes) => { if (!socket.destroyed) socket.write(bytes); },
      close: () => socket.end(),
      log,
    };
    if (opts.trace) stubOptions.trace = opts.trace;
    if (opts.packetSize !== undefined) stubOptions.packetSize = opts.packetSize;
    const stub = new GdbStub(stubOptions);
    socket.on('data', (d: Buffer) => stub.receive(d));
    socket.on('error', (e) => log(`client ${who}: ${e.message}`));
    socket.on('close', () => {
      if (client === socket) client = null;
      teardown = teardown.then(() => stub.disconnect()).then(
        () => log(`client ${who} gone; the machine is stopped and free`),
        (e) => log(`client ${who}: ending the session failed: ${(e as Error).message}`),
      );
    });
    socket.resume();
  };

  const accept = (socket: net.Socket) => {
    if (socket.destroyed) return;
    if (client !== null) { socket.resume(); refuse(socket); return; }
    // A session that just ended may still be stopping the target: the new client waits for that.
    client = socket;
    teardown.then(() => {
      if (socket.destroyed) { if (client === socket) client = null; return; }
      attach(socket);
    }).catch((e) => { log(`accepting ${peer(socket)} failed: ${(e as Error).message}`); if (client === socket) client = null; socket.destroy(); });
  };

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined); // until a handler below takes over
    const old = client;
    if (old === null) { accept(socket); return; }
    // A client that went away while a long slice of the run held the event loop may have its close still queued
    // behind this connection: wait for it a moment before refusing.
    refused.add(socket); // closed with the server meanwhile
    const decide = () => { clearTimeout(timer); old.off('close', decide); refused.delete(socket); accept(socket); };
    const timer = setTimeout(decide, CLOSE_GRACE_MS);
    old.once('close', decide);
  });

  return new Promise<GdbServer>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new Error(`port ${opts.port} on ${host} is in use`));
      else if (e.code === 'EACCES') reject(new Error(`not allowed to listen on port ${opts.port} on ${host}`));
      else reject(new Error(`cannot listen on ${host}:${opts.port}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      server.on('error', (e) => log(`server: ${e.message}`));
      const a = server.address() as net.AddressInfo;
      log(`listening on ${a.address}:${a.port}`);
      resolve({
        address: { host: a.address, port: a.port },
        close: async () => {
          await new Promise<void>((done) => {
            server.close(() => done());
            client?.destroy();
            for (const s of refused) s.destroy();
          });
          await teardown;
        },
      });
    });
  });
}
