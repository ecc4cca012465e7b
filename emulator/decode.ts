// Decoding with iced-x86 into our compact Insn form, a block at a time.
// Decoding happens once per block; blocks are cached by the BlockCache.
import { Decoder, DecoderError, DecoderOptions, Formatter, FormatterSyntax, Instruction, OpKind, Register, FlowControl, Code, MemorySizeExt, InstructionInfoFactory, OpAccess } from './iced.ts';
import { linearKey, type Cpu } from './cpu.ts';
import { Insn, Block, MEM_READ, MEM_WRITE, MEM_SS, MEM_UNRESOLVED, type Handler } from './insn.ts';
import { entryOf, FORM_ENDS_BLOCK, FORM_XMM_DEST, FORM_XMM_BOTH, FORM_STRING } from './table.ts';
import './ops/system.ts'; // registers the system instructions in the dispatch table
import { CpuFault, Vector, ud } from './fault.ts';
import { specialize, link } from './specialize.ts';

const MAX_BLOCK_INSNS = 128;
const TWO32 = 4294967296;

const scratch = new Instruction();
const formatter = new Formatter(FormatterSyntax.Gas);

/** Map an iced register to our index: GPRs 0-15 (8-bit AH..BH as 16-19), segment 0-5, XMM 0-15, CR/DR n. */
export function regIndex(r: number): number {
  if (r >= Register.AL && r <= Register.BL) return r - Register.AL;
  if (r >= Register.AH && r <= Register.BH) return 16 + (r - Register.AH);
  if (r >= Register.SPL && r <= Register.R15L) return 4 + (r - Register.SPL);
  if (r >= Register.AX && r <= Register.R15W) return r - Register.AX;
  if (r >= Register.EAX && r <= Register.R15D) return r - Register.EAX;
  if (r >= Register.RAX && r <= Register.R15) return r - Register.RAX;
  if (r >= Register.ES && r <= Register.GS) return r - Register.ES;
  if (r >= Register.XMM0 && r <= Register.XMM31) return r - Register.XMM0;
  if (r >= Register.CR0 && r <= Register.CR15) return r - Register.CR0;
  if (r >= Register.DR0 && r <= Register.DR15) return r - Register.DR0;
  if (r >= Register.TR0 && r <= Register.TR7) return r - Register.TR0;
  return -2;
}

function gpr(r: number): number {
  if (r === Register.None) return -1;
  return regIndex(r);
}

/** Address size of an instruction from the mode and a 0x67 prefix among its legacy prefixes. */
function addressSize(bytes: Uint8Array, codeBits: number): number {
  let has67 = false;
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes[k]!;
    if (b === 0x67) has67 = true;
    else if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x64 || b === 0x65 || b === 0x66 || b === 0xf0 || b === 0xf2 || b === 0xf3) continue;
    else break;
  }
  if (codeBits === 64) return has67 ? 32 : 64;
  if (codeBits === 32) return has67 ? 16 : 32;
  return has67 ? 32 : 16;
}

function halves(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}

/** Disassemble one decoded instruction (GNU syntax) for messages and traces. */
export function disassemble(bytes: Uint8Array, bits: number, rip: bigint): string {
  const d = new Decoder(bits, bytes, DecoderOptions.None);
  d.ip = rip;
  const ins = d.decode();
  const text = ins.code === Code.INVALID ? '(bad)' : formatter.format(ins);
  ins.free(); d.free();
  return text;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A handler that raises #UD for an instruction the core does not implement (or that is invalid). */
function undefinedHandler(message: string): Handler {
  return () => { throw ud(message); };
}

/** A handler that raises the #PF met while fetching this instruction's bytes. */
function fetchFaultHandler(f: CpuFault, lo: number, hi: number): Handler {
  return (c) => {
    c.cr2Lo = lo; c.cr2Hi = hi;
    throw new CpuFault(f.vector, f.errorCode, f.detail);
  };
}

/** Fill an Insn from the iced instruction. */
function convert(ins: Instruction, i: Insn, bytes: Uint8Array, codeBits: number): void {
  const code = ins.code;
  i.code = code;
  i.len = bytes.length;
  i.bytes = bytes;
  const entry = entryOf(code);
  const asize = addressSize(bytes, codeBits);
  i.asize = asize;
  const n = Math.min(ins.opCount, 3);
  const pos = [-2, -2, -2];
  for (let k = 0; k < n; k++) {
    const kind = ins.opKind(k);
    switch (kind) {
      case OpKind.Register: pos[k] = regIndex(ins.opRegister(k)); break;
      case OpKind.Memory: {
        pos[k] = -1;
        const base = ins.memoryBase;
        if (base === Register.RIP || base === Register.EIP) {
          i.base = -1;
          [i.dispLo, i.dispHi] = halves(ins.memoryDisplacementU64);
          if (base === Register.EIP) i.dispHi = 0;
        } else {
          i.base = gpr(base);
          [i.dispLo, i.dispHi] = halves(ins.memoryDisplacementU64);
          if (asize !== 64) i.dispHi = 0;
        }
        i.index = gpr(ins.memoryIndex);
        i.scale = Math.log2(ins.memoryIndexScale || 1);
        i.seg = segmentFor(ins.memorySegment, codeBits);
        i.msize = MemorySizeExt.size(ins.memorySize);
        i.mflags = (ins.memorySegment === Register.SS ? MEM_SS : 0) | memAccess(ins, k, codeBits);
        break;
      }
      case OpKind.Immediate8: case OpKind.Immediate16: case OpKind.Immediate32: case OpKind.Immediate64:
      case OpKind.Immediate8to16: case OpKind.Immediate8to32: case OpKind.Immediate8to64: case OpKind.Immediate32to64: {
        const [lo, hi] = halves(ins.immediate(k));
        if (kind === OpKind.Immediate8to16) { i.immLo = lo & 0xffff; i.immHi = 0; }
        else if (kind === OpKind.Immediate8to32) { i.immLo = lo; i.immHi = 0; }
        else { i.immLo = lo; i.immHi = hi; }
        break;
      }
      case OpKind.Immediate8_2nd: i.imm2 = ins.immediate8_2nd; break;
      case OpKind.NearBranch16: case OpKind.NearBranch32: case OpKind.NearBranch64:
        [i.tLo, i.tHi] = halves(ins.nearBranchTarget);
        break;
      case OpKind.FarBranch16: case OpKind.FarBranch32:
        i.immLo = kind === OpKind.FarBranch16 ? ins.farBranch16 : ins.farBranch32;
        i.imm2 = ins.farBranchSelector;
        break;
      default: // string operands: segment override of the source, address size from the form
        if (kind === OpKind.MemorySegSI || kind === OpKind.MemorySegESI || kind === OpKind.MemorySegRSI) i.seg = segmentFor(ins.memorySegment, codeBits);
        pos[k] = -3;
        break;
    }
  }
  i.a = pos[0]!; i.b = pos[1]!; i.c = pos[2]!;
  if (!entry) {
    i.exec = i.run = undefinedHandler(`${code === Code.INVALID ? 'invalid instruction' : `unimplemented instruction ${Code[code]}`} '${code === Code.INVALID ? '(bad)' : formatter.format(ins)}' (bytes ${hex(bytes)})`);
    return;
  }
  i.exec = entry.handler;
  i.op = entry.op;
  i.size = entry.size;
  const form = entry.form;
  if (form & FORM_STRING) i.op = ins.hasRepnePrefix ? 2 : ins.hasRepePrefix || ins.hasRepPrefix ? 1 : 0;
  if (form & FORM_XMM_DEST) i.c = 1;
  if (form & FORM_XMM_BOTH) i.imm2 = 1;
  i.flagsRead = ins.rflagsRead & 63;
  i.flagsWrite = mustWriteFlags(ins, i);
  specialize(i);
  if (form & FORM_STRING) {
    // Scan the string operand's segment: lods/movs/cmps source (DS default, overridable).
    if (i.seg === -1 && codeBits !== 64) i.seg = 3;
  }
}

/**
 * Flags an instruction always writes (defined or undefined values). Shifts
 * and rotates whose masked count may be zero write nothing for sure.
 */
function mustWriteFlags(ins: Instruction, i: Insn): number {
  const name = Code[ins.code] ?? '';
  if (/^(Rol|Ror|Rcl|Rcr|Shl|Shr|Sal|Sar|Shld|Shrd)_/.test(name)) {
    if (name.endsWith('_CL')) return 0;
    if (name.endsWith('_imm8')) {
      const mask = name.includes('64') ? 0x3f : 0x1f;
      if ((i.immLo & mask) === 0) return 0;
    }
  }
  return ins.rflagsModified & 63;
}

let infoFactory: InstructionInfoFactory | null = null;

/**
 * How operand k (memory) is accessed: MEM_READ / MEM_WRITE. Only legacy and
 * compatibility code needs it (segment type checks); 64-bit code gets MEM_READ.
 */
function memAccess(ins: Instruction, k: number, codeBits: number): number {
  if (codeBits === 64) return MEM_READ | MEM_UNRESOLVED;
  return opAccess(ins, k);
}

function opAccess(ins: Instruction, k: number): number {
  infoFactory ??= new InstructionInfoFactory();
  const info = infoFactory.info(ins);
  try {
    switch (info.opAccess(k)) {
      case OpAccess.Read: case OpAccess.CondRead: return MEM_READ;
      case OpAccess.Write: case OpAccess.CondWrite: return MEM_WRITE;
      case OpAccess.ReadWrite: case OpAccess.ReadCondWrite: return MEM_READ | MEM_WRITE;
      default: return 0;
    }
  } finally { info.free(); }
}

/**
 * Resolve MEM_READ / MEM_WRITE of a 64-bit instruction's memory operand
 * (decoding skips it: only data breakpoints need it there). Off the hot path.
 */
export function resolveMemAccess(i: Insn): void {
  if (!(i.mflags & MEM_UNRESOLVED)) return;
  const d = new Decoder(64, i.bytes, DecoderOptions.None);
  try {
    const ins = d.decode();
    let access = 0;
    for (let k = 0; k < ins.opCount; k++) if (ins.opKind(k) === OpKind.Memory) access = opAccess(ins, k);
    ins.free();
    i.mflags = (i.mflags & ~(MEM_UNRESOLVED | MEM_READ | MEM_WRITE)) | access;
  } finally { d.free(); }
}

/** Segment register index for a memory operand; -1 when no base applies (64-bit mode, not FS/GS). */
function segmentFor(seg: number, codeBits: number): number {
  const s = seg === Register.None ? 3 : seg - Register.ES;
  if (codeBits === 64 && s !== 4 && s !== 5) return -1;
  return s;
}

/** Decode a block starting at RIP (ripLo/ripHi) whose linear address is (linLo/linHi). */
export function decodeBlock(c: Cpu, ripLo: number, ripHi: number, linLo: number, linHi: number, modeKey: number): Block {
  const bits = c.codeBits;
  // Gather bytes: the rest of this page, plus up to 15 bytes of the next if it can be fetched.
  const pageRest = 0x1000 - (linLo & 0xfff);
  const firstPhys = c.translateExec(linLo, linHi); // a fault here is the fetch fault of the first instruction
  const frames = [Math.floor(firstPhys / 4096)];
  let nextFault: CpuFault | null = null;
  const nLo = (linLo + pageRest) | 0, nHi = (linHi + ((linLo >>> 0) + pageRest > 0xffffffff ? 1 : 0)) | 0;
  let nextPhys = -1;
  // A probe, not an access: a fault here must not change CR2 (it is raised, with CR2, only if the code runs there).
  const cr2Lo = c.cr2Lo, cr2Hi = c.cr2Hi;
  try { nextPhys = c.translateExec(nLo, nHi); } catch (e) { if (e instanceof CpuFault) { nextFault = e; c.cr2Lo = cr2Lo; c.cr2Hi = cr2Hi; } else throw e; }
  const take = pageRest;
  const buf = new Uint8Array(take + (nextPhys >= 0 ? 15 : 0));
  c.fetching = true; // code fetches are not data accesses (a debugger's read watchpoint ignores them)
  try {
    for (let k = 0; k < take; k++) buf[k] = c.physReadByte(firstPhys + k);
    if (nextPhys >= 0) for (let k = 0; k < 15; k++) buf[take + k] = c.physReadByte(nextPhys + k);
  } finally {
    c.fetching = false;
  }

  // iced decoders are bound to their buffer; make one per block (cheap next to the work saved by caching).
  const d = new Decoder(bits, buf, DecoderOptions.None);
  const rip = BigInt(ripLo >>> 0) + BigInt(ripHi >>> 0) * BigInt(TWO32);
  d.ip = rip;
  const insns: Insn[] = [];
  let pos = 0;
  let usedNext = false;
  try {
    while (insns.length < MAX_BLOCK_INSNS && pos < take) {
      // End the block before an execution breakpoint so the run loop sees it at a block start.
      if (insns.length > 0 && c.breakpoints.size !== 0 && c.breakpoints.has(linearKey((linLo + pos) | 0, (linHi + ((linLo >>> 0) + pos > 0xffffffff ? 1 : 0)) | 0))) break;
      d.decodeOut(scratch);
      const len = scratch.length;
      const i = new Insn();
      const ip = scratch.ip;
      [i.ripLo, i.ripHi] = halves(ip);
      [i.nextLo, i.nextHi] = halves(scratch.nextIP);
      if (bits !== 64) { i.nextHi = 0; i.ripHi = 0; if (bits === 16) { i.nextLo &= 0xffff; } }
      if (scratch.code === Code.INVALID && d.lastError === DecoderError.NoMoreBytes) {
        // Ran out of bytes: the instruction continues on a page we could not fetch.
        if (nextFault) { i.exec = i.run = fetchFaultHandler(nextFault, nLo, nHi); i.len = 0; i.pos = insns.length; insns.push(i); }
        break;
      }
      const bytes = buf.slice(pos, pos + Math.max(len, 1));
      convert(scratch, i, bytes, bits);
      i.pos = insns.length;
      insns.push(i);
      pos += Math.max(len, 1);
      if (pos > take) usedNext = true;
      const fc = scratch.flowControl;
      if (fc !== FlowControl.Next || scratch.code === Code.INVALID) break;
      const e = entryOf(scratch.code);
      if (e && (e.form & FORM_ENDS_BLOCK)) break;
    }
  } finally {
    d.free();
  }
  if (usedNext) frames.push(Math.floor(nextPhys / 4096));
  if (insns.length === 0) {
    // Not even one instruction fitted (e.g. a 15-byte window cut by the block limit): decode it alone next time.
    throw new CpuFault(Vector.UD, -1, 'empty block');
  }
  link(insns);
  const block = new Block(ripLo, ripHi, linLo, linHi, modeKey, insns, frames, firstPhys);
  block.atBreakpoint = c.breakpoints.size !== 0 && c.breakpoints.has(linearKey(linLo, linHi));
  block.zeroFilled = insns.every((i) => i.bytes.length > 0 && i.bytes.every((b) => b === 0));
  return block;
}
