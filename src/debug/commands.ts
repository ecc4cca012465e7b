// The commands of the protocol core: one table from packet name to handler.
// A handler gets the arguments after the name and returns the reply payload
// ('' is the empty reply: not supported), or null for no reply. Malformed
// arguments give an error reply, never an exception; a TargetError thrown
// by the backend becomes 'E.<message>' (stub.ts), which gdb shows for most
// packets ('m' and, before gdb 15, 'qRcmd' take only 'Exx': see there).
import { TargetError, type GdbTarget, type PointType, type ResumeAction, type StopReply } from './target.ts';
import { REGISTERS, REGISTER_BYTES } from './registers.ts';
import { featureFiles } from './targetXml.ts';
import { memoryMapXml } from './memoryMapXml.ts';
import { escapeBinary, latin1, latin1Bytes, unescapeBinary } from './packets.ts';
import { fromHex, hexToText, parseHexInt, parseHexU64, toHex } from './hex.ts';

/** What a handler may use of the session (stub.ts implements it). */
export interface StubContext {
  readonly target: GdbTarget;
  /** The largest packet payload we accept and send (advertised as PacketSize). */
  readonly packetSize: number;
  /** The features gdb announced in qSupported (names of its `name+` entries). */
  readonly clientFeatures: Set<string>;
  /** Leave ack mode once the current reply has been sent. */
  startNoAck(): void;
  /** Resume the target; resolves to the stop reply payload (console output, if any, is sent before). */
  resume(action: ResumeAction): Promise<string>;
  /** Send text to gdb's console now, as O packets. */
  output(text: string): void;
  /** The session ends after the current reply: detach (D) or kill (k, vKill) the target and close the connection. */
  end(how: 'detach' | 'kill'): void;
}

export type Reply = string | null;
export type Handler = (cx: StubContext, args: string) => Reply | Promise<Reply>;

/** The only thread: every thread id gdb may use for it. */
const THREAD = 1;

/** An error reply with text (gdb's 'E.text'); chars that would break the framing are replaced. */
export function errorReply(message: string): string {
  return 'E.' + message.replace(/[^\x20-\x7e]|[#$}*]/g, '?').slice(0, 200);
}

/** Parses `<addr>,<len>`; null when malformed or the range passes 2^64. */
function addrLen(s: string, maxLen: number): { addr: bigint; len: number } | null {
  const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(s);
  if (!m) return null;
  const addr = parseHexU64(m[1]!), len = parseHexInt(m[2]!, maxLen);
  if (addr === null || len === null || addr + BigInt(len) > 1n << 64n) return null;
  return { addr, len };
}

/** A thread id as gdb writes it (hex, -1 for all, 0 for any, p<pid>.<tid> with multiprocess); null when malformed. */
function threadId(s: string): number | 'all' | 'any' | null {
  const m = /^(?:p(?:-1|[0-9a-fA-F]+)\.)?(-1|[0-9a-fA-F]+)$/.exec(s);
  if (!m) return null;
  if (m[1] === '-1') return 'all';
  const t = parseHexInt(m[1]!, 0xffffffff);
  return t === null ? null : t === 0 ? 'any' : t;
}

const appliesToUs = (t: ReturnType<typeof threadId>) => t === 'all' || t === 'any' || t === THREAD;

function readRegisterChecked(target: GdbTarget, i: number): Uint8Array {
  const bytes = target.readRegister(i), r = REGISTERS[i]!;
  if (bytes.length !== r.size) throw new TargetError(`the target gave ${bytes.length} bytes for ${r.name}, which has ${r.size}`);
  return bytes;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, k) => v === b[k]);

/** The stop reply for gdb; swbreak/hwbreak only when gdb said it understands them. */
export function stopReplyPayload(r: StopReply, clientFeatures: ReadonlySet<string>): string {
  const thread = `thread:${THREAD.toString(16)};`;
  const sig = (n: number) => n.toString(16).padStart(2, '0');
  switch (r.kind) {
    case 'trap': return `T05${thread}`;
    case 'breakpoint': {
      const reason = r.hw ? 'hwbreak' : 'swbreak';
      return clientFeatures.has(reason) ? `T05${reason}:;${thread}` : `T05${thread}`;
    }
    case 'watch': return `T05${r.access}:${r.addr.toString(16)};${thread}`;
    case 'interrupted': return `T02${thread}`;
    case 'history': return `T05replaylog:${r.end};${thread}`;
    case 'signal': return `T${sig(r.signal & 0xff)}${thread}`;
    case 'exited': return `W${sig(r.code & 0xff)}`;
  }
}

const STUB_FEATURES = ['qXfer:features:read+', 'qXfer:memory-map:read+', 'ReverseContinue+', 'ReverseStep+', 'swbreak+', 'hwbreak+', 'QStartNoAckMode+', 'vContSupported+'];

function qSupported(cx: StubContext, args: string): Reply {
  cx.clientFeatures.clear();
  if (args.startsWith(':')) for (const f of args.slice(1).split(';')) if (f.endsWith('+')) cx.clientFeatures.add(f.slice(0, -1));
  return [`PacketSize=${cx.packetSize.toString(16)}`, ...STUB_FEATURES].join(';');
}

function readAllRegisters(cx: StubContext): Reply {
  let s = '';
  for (let i = 0; i < REGISTERS.length; i++) s += toHex(readRegisterChecked(cx.target, i));
  return s;
}

function writeAllRegisters(cx: StubContext, args: string): Reply {
  const all = fromHex(args);
  if (all === null || all.length !== REGISTER_BYTES) return errorReply(`G needs ${REGISTER_BYTES} bytes of registers as hex`);
  let off = 0;
  for (let i = 0; i < REGISTERS.length; i++) {
    const bytes = all.subarray(off, off + REGISTERS[i]!.size);
    off += bytes.length;
    // gdb sends every register back: write only what changed, so that registers the target cannot set do not fail the packet.
    if (!sameBytes(bytes, readRegisterChecked(cx.target, i))) cx.target.writeRegister(i, bytes.slice());
  }
  return 'OK';
}

function readOneRegister(cx: StubContext, args: string): Reply {
  const i = parseHexInt(args, REGISTERS.length - 1);
  if (i === null) return errorReply(`no register ${args}`);
  return toHex(readRegisterChecked(cx.target, i));
}

function writeOneRegister(cx: StubContext, args: string): Reply {
  const m = /^([0-9a-fA-F]+)=(.*)$/.exec(args);
  const i = m ? parseHexInt(m[1]!, REGISTERS.length - 1) : null;
  if (!m || i === null) return errorReply('P needs <register>=<value>');
  const bytes = fromHex(m[2]!);
  if (bytes === null || bytes.length !== REGISTERS[i]!.size) return errorReply(`${REGISTERS[i]!.name} takes ${REGISTERS[i]!.size} bytes as hex`);
  cx.target.writeRegister(i, bytes);
  return 'OK';
}

function readMemory(cx: StubContext, args: string): Reply {
  // 'm' takes only 'Exx' errors from gdb before 15 ('E.text' with its error-message feature).
  const fail = (text: string) => (cx.clientFeatures.has('error-message') ? errorReply(text) : 'E01');
  const r = addrLen(args, cx.packetSize >> 1);
  if (r === null) return fail('m needs <addr>,<len> within the packet size');
  if (r.len === 0) return '';
  let bytes: Uint8Array;
  try { bytes = cx.target.readMemory(r.addr, r.len); } catch (e) {
    if (e instanceof TargetError) return fail(e.message);
    throw e;
  }
  if (bytes.length === 0) return fail(`cannot read memory at 0x${r.addr.toString(16)}`);
  return toHex(bytes.subarray(0, r.len));
}

function writeMemoryHex(cx: StubContext, args: string): Reply {
  const colon = args.indexOf(':');
  const r = colon < 0 ? null : addrLen(args.slice(0, colon), cx.packetSize);
  const data = colon < 0 ? null : fromHex(args.slice(colon + 1));
  if (r === null || data === null || data.length !== r.len) return errorReply('M needs <addr>,<len>:<len bytes as hex>');
  if (r.len > 0) cx.target.writeMemory(r.addr, data);
  return 'OK';
}

function writeMemoryBinary(cx: StubContext, args: string): Reply {
  const colon = args.indexOf(':');
  const r = colon < 0 ? null : addrLen(args.slice(0, colon), cx.packetSize);
  const data = colon < 0 ? null : unescapeBinary(latin1Bytes(args.slice(colon + 1)));
  if (r === null || data === null || data.length !== r.len) return errorReply('X needs <addr>,<len>:<len bytes, escaped>');
  if (r.len > 0) cx.target.writeMemory(r.addr, data);
  return 'OK';
}

/** c and s: an address argument is refused (set $pc instead) rather than ignored. */
const resumeHere = (action: ResumeAction) => (cx: StubContext, args: string): Reply | Promise<Reply> =>
  args === '' ? cx.resume(action) : errorReply('resuming at an address is not supported: set rip first');

/** C and S: the signal is ignored (a machine has no signals to deliver); an address is refused as for c/s. */
const resumeWithSignal = (action: ResumeAction) => (cx: StubContext, args: string): Reply | Promise<Reply> => {
  const m = /^([0-9a-fA-F]{1,2})(;.*)?$/.exec(args);
  if (!m) return errorReply('needs a signal number');
  return m[2] === undefined ? cx.resume(action) : errorReply('resuming at an address is not supported: set rip first');
};

const noArgs = (f: (cx: StubContext) => Reply | Promise<Reply>) => (cx: StubContext, args: string): Reply | Promise<Reply> =>
  args === '' ? f(cx) : errorReply('takes no arguments');

function vCont(cx: StubContext, args: string): Reply | Promise<Reply> {
  if (!args.startsWith(';')) return errorReply('vCont needs actions');
  let chosen: ResumeAction | null = null;
  for (const item of args.slice(1).split(';')) {
    const m = /^(c|s|[CS][0-9a-fA-F]{1,2})(?::(.+))?$/.exec(item);
    if (!m) return errorReply(`unsupported vCont action ${item}`);
    const tid = m[2] === undefined ? 'all' : threadId(m[2]);
    if (tid === null) return errorReply(`bad thread id ${m[2]}`);
    // The leftmost action that applies to a thread is the one it takes.
    if (chosen === null && appliesToUs(tid)) chosen = m[1]![0]!.toLowerCase() === 's' ? 'step' : 'continue';
  }
  return chosen === null ? errorReply('no action for thread 1') : cx.resume(chosen);
}

function point(insert: boolean) {
  return (cx: StubContext, args: string): Reply => {
    const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+),([0-9a-fA-F]+)(;.*)?$/.exec(args);
    if (!m) return errorReply('needs <type>,<addr>,<kind>');
    const type = parseHexInt(m[1]!, 0xff), addr = parseHexU64(m[2]!), len = parseHexInt(m[3]!, 0xffffffff);
    if (type === null || addr === null || len === null) return errorReply('bad type, address or length');
    if (type > 4) return '';
    const ok = insert ? cx.target.insertPoint(type as PointType, addr, len) : cx.target.removePoint(type as PointType, addr, len);
    return ok ? 'OK' : '';
  };
}

async function monitorCommand(cx: StubContext, args: string): Promise<Reply> {
  const command = args.startsWith(',') ? hexToText(args.slice(1)) : null;
  if (command === null) return errorReply('qRcmd needs the command as hex');
  try {
    const text = await cx.target.monitor(command);
    if (text !== '') cx.output(text.endsWith('\n') ? text : text + '\n');
    return 'OK';
  } catch (e) {
    if (!(e instanceof TargetError)) throw e;
    if (cx.clientFeatures.has('error-message')) return errorReply(e.message);
    // gdb before 15 reads any other reply as output and 'Exx' as "Protocol error with Rcmd": show the message first.
    cx.output(e.message.endsWith('\n') ? e.message : e.message + '\n');
    return 'E01';
  }
}

function transfer(cx: StubContext, args: string): Reply {
  const m = /^:([^:]+):([^:]+):([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
  if (!m) return /^:[^:]+:read:/.test(args) ? 'E00' : '';
  const [, object, op, annex] = m;
  if (op !== 'read') return '';
  let text: string | undefined;
  if (object === 'features') text = featureFiles().get(annex!);
  else if (object === 'memory-map') text = annex === '' ? memoryMapXml(cx.target.memoryMap()) : undefined;
  else return '';
  if (text === undefined) return 'E00';
  const offset = parseHexInt(m[4]!, Number.MAX_SAFE_INTEGER), len = parseHexInt(m[5]!, Number.MAX_SAFE_INTEGER);
  if (offset === null || len === null) return 'E00';
  const all = new TextEncoder().encode(text);
  const end = Math.min(all.length, offset + Math.min(len, cx.packetSize - 1));
  const chunk = offset >= all.length ? new Uint8Array(0) : all.subarray(offset, end);
  return (end >= all.length ? 'l' : 'm') + latin1(escapeBinary(chunk));
}

function setThread(_cx: StubContext, args: string): Reply {
  const t = /^[a-zA-Z]/.test(args) ? threadId(args.slice(1)) : null;
  return t !== null && appliesToUs(t) ? 'OK' : errorReply(`no thread ${args.slice(1)}`);
}

function threadAlive(_cx: StubContext, args: string): Reply {
  const t = threadId(args);
  return t !== null && appliesToUs(t) ? 'OK' : errorReply(`no thread ${args}`);
}

function detach(cx: StubContext, args: string): Reply {
  if (args !== '' && !/^;[0-9a-fA-F]+$/.test(args)) return errorReply('D takes only a process id');
  cx.end('detach');
  return 'OK';
}

/** The command table: packet name (see packetName) → handler. */
export const COMMANDS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['qSupported', qSupported],
  ['QStartNoAckMode', noArgs((cx) => { cx.startNoAck(); return 'OK'; })],
  ['?', noArgs((cx) => stopReplyPayload(cx.target.stopReason(), cx.clientFeatures))],
  ['g', noArgs(readAllRegisters)],
  ['G', writeAllRegisters],
  ['p', readOneRegister],
  ['P', writeOneRegister],
  ['m', readMemory],
  ['M', writeMemoryHex],
  ['X', writeMemoryBinary],
  ['c', resumeHere('continue')],
  ['s', resumeHere('step')],
  ['C', resumeWithSignal('continue')],
  ['S', resumeWithSignal('step')],
  ['vCont?', noArgs(() => 'vCont;c;C;s;S')],
  ['vCont', vCont],
  ['bc', noArgs((cx) => cx.resume('reverse-continue'))],
  ['bs', noArgs((cx) => cx.resume('reverse-step'))],
  ['Z', point(true)],
  ['z', point(false)],
  ['qRcmd', monitorCommand],
  ['qXfer', transfer],
  ['qAttached', () => '1'],
  ['qC', noArgs(() => `QC${THREAD.toString(16)}`)],
  ['qfThreadInfo', noArgs(() => `m${THREAD.toString(16)}`)],
  ['qsThreadInfo', noArgs(() => 'l')],
  ['H', setThread],
  ['T', threadAlive],
  ['D', detach],
  ['k', (cx) => { cx.end('kill'); return null; }],
  ['vKill', (cx) => { cx.end('kill'); return 'OK'; }],
  ['vMustReplyEmpty', () => ''],
]);

/**
 * The name a packet is looked up by: for q, Q and v packets the text up to
 * the first ':', ',' or ';' (so qC is not a prefix of qCRC), 'bc'/'bs' for
 * b packets, otherwise the first char.
 */
export function packetName(payload: string): string {
  const c = payload[0] ?? '';
  if (c === 'q' || c === 'Q' || c === 'v') return /^[^:;,]*/.exec(payload)![0];
  if (c === 'b') return payload.slice(0, 2);
  return c;
}
