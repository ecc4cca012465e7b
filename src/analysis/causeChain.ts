// The cause chain of a crash, found by deterministic re-execution: from the
// faulting instruction to the register it used, to the instruction that
// last wrote that register, to the memory that instruction read, to the
// last write of those bytes (re-running with the frame tracked), and on
// through copies until a hypervisor write, the loader, or a computed value.
//
//   buildCauseChain({ faultIcount, rerun, describe }) → CauseStep[]
//   crashCauseChain(bootOptions, bootResult) → CauseStep[]   (crashChain.ts: does the re-run plumbing for bootKexec)
//   formatCauseChain(steps) → text
//
// `rerun(stopAt, prepare)` must rebuild the same boot and run it until
// exactly `stopAt` instructions have retired (prepare runs after loading,
// before the run: it is where frames get tracked). The machine is
// deterministic, so every re-run sees the same instructions and writes.
import { Decoder, DecoderOptions, InstructionInfoFactory, Formatter, FormatterSyntax, Register, OpAccess, OpKind, Code, Mnemonic, MemorySizeExt, type Instruction } from '../../emulator/iced.ts';
import type { Cpu } from '../../emulator/index.ts';
import type { BootMachine } from '../machine/bootMachine.ts';
import { codeByte, codePhys } from './guestCode.ts';
import type { WriteRecord } from '../machine/provenance.ts';

/** What a step of a cause chain is (CauseStep.kind). */
export type CauseKind = 'fault' | 'register' | 'memory' | 'write' | 'copy' | 'hypervisor' | 'loader' | 'end';

/** One link of a cause chain, from the faulting instruction back towards where the bad value came from. */
export interface CauseStep {
  /** The fault, a register's last writer, a memory read, a write, a copy, a hypervisor write, the loader, or the end of the chain. */
  kind: CauseKind;
  /** Instructions retired before this step's instruction (its position on the virtual clock). */
  icount: number;
  /** The instruction's address (steps about a CPU instruction). */
  rip?: bigint;
  /** "symbol+0xoff" of `rip`, by the boot's stage at that time. */
  where?: string;
  /** The instruction's disassembly. */
  instruction?: string;
  /** Guest-physical address of the bytes this step is about. */
  address?: number;
  /** The value involved, as hex. */
  value?: string;
  /** The instruction's bytes, as hex. */
  bytes?: string;
  /** The step in words, as formatCauseChain prints it. */
  text: string;
}

export type Rerun = (stopAt: number, prepare?: (m: BootMachine) => void) => BootMachine;

export interface CauseChainOptions {
  /** Instructions retired before the faulting instruction. */
  faultIcount: number;
  rerun: Rerun;
  /** "symbol+0xoff" for an address (RIP) at a given time (instructions retired). */
  describe: (addr: bigint, icount: number) => string;
  /** How far back to single-step when looking for a register's writer. */
  window?: number;
  /**
   * True when the faulting instruction's own bytes are suspect (they differ
   * from vmlinux): the chain then follows the code bytes — who wrote them,
   * from where — before the registers.
   */
  codeCorrupted?: (phys: number, len: number) => boolean;
  /** The longest chain followed. */
  maxSteps?: number;
}

const GPR = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const infoFactory = new InstructionInfoFactory();
const formatter = new Formatter(FormatterSyntax.Gas);
const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The 64-bit GPR an iced register belongs to, or -1. */
function gprOf(r: number): number {
  if (r >= Register.AL && r <= Register.BL) return r - Register.AL;
  if (r >= Register.AH && r <= Register.BH) return r - Register.AH;
  if (r >= Register.SPL && r <= Register.R15L) return 4 + (r - Register.SPL);
  if (r >= Register.AX && r <= Register.R15W) return r - Register.AX;
  if (r >= Register.EAX && r <= Register.R15D) return r - Register.EAX;
  if (r >= Register.RAX && r <= Register.R15) return r - Register.RAX;
  return -1;
}

export interface Decoded { ins: Instruction; text: string; bytes: Uint8Array }

/** Decode the instruction at the machine's RIP (read through its page tables). */
export function decodeAtRip(m: { cpu: Cpu }): Decoded {
  const c = m.cpu;
  const rip = c.getRip();
  const buf = new Uint8Array(15);
  let n = 0;
  for (; n < 15; n++) {
    const b = codeByte(c, rip, n);
    if (b === null) break;
    buf[n] = b;
  }
  const d = new Decoder(c.codeBits, buf.subarray(0, n), DecoderOptions.None);
  d.ip = rip;
  const ins = d.decode();
  d.free();
  return { ins, text: ins.code === Code.INVALID ? '(bad)' : formatter.format(ins), bytes: buf.slice(0, ins.length) };
}

interface Access { reg: number; mode: number }
function registerAccesses(ins: Instruction): Access[] {
  const info = infoFactory.info(ins);
  const out = info.usedRegisters().map((u: { register: number; access: number }) => ({ reg: gprOf(u.register), mode: u.access })).filter((a: Access) => a.reg >= 0);
  info.free();
  return out;
}
const writes = (mode: number) => mode === OpAccess.Write || mode === OpAccess.ReadWrite || mode === OpAccess.CondWrite || mode === OpAccess.ReadCondWrite;
const reads = (mode: number) => mode === OpAccess.Read || mode === OpAccess.ReadWrite || mode === OpAccess.CondRead || mode === OpAccess.ReadCondWrite;

/** Memory operands an instruction reads, as linear addresses computed from the machine's current registers, with their sizes. */
export function memoryReads(m: { cpu: Cpu }, ins: Instruction): { lin: bigint; size: number }[] {
  const info = infoFactory.info(ins);
  const c = m.cpu;
  const out: { lin: bigint; size: number }[] = [];
  for (const u of info.usedMemory() as { access: number; base: number; index: number; scale: number; displacement: bigint; segment: number; memorySize: number }[]) {
    if (!reads(u.access)) continue;
    let a = u.displacement;
    const b = gprOf(u.base), x = gprOf(u.index);
    if (b >= 0) a += c.getReg(b);
    if (x >= 0) a += c.getReg(x) * BigInt(u.scale);
    if (u.segment === Register.FS || u.segment === Register.GS || c.codeBits !== 64) {
      const s = u.segment - Register.ES;
      if (s >= 0 && s < 6) a += (BigInt(c.segBaseHi[s]! >>> 0) << 32n) | BigInt(c.segBaseLo[s]! >>> 0);
    }
    // The operand's own size (iced's MemorySize), not a guess from the text; vector operands are followed 8 bytes at a time.
    out.push({ lin: BigInt.asUintN(c.codeBits === 64 ? 64 : 32, a), size: Math.max(1, Math.min(8, MemorySizeExt.size(u.memorySize))) });
  }
  info.free();
  return out;
}

function physOf(m: BootMachine, lin: bigint): number | null {
  try { return m.cpu.translateData(Number(lin & 0xffffffffn) | 0, Number(lin >> 32n) | 0); } catch { return null; }
}


/**
 * The last instruction in [from, to) that `pred` accepts, by single-stepping
 * a re-run; with `after(machine)` taken just after it ran. Only the latest
 * candidate is kept (the decoder's objects of the others are freed as the
 * scan goes), so long windows cost time, not memory.
 */
function lastMatching<T>(rerun: Rerun, pred: (ins: Instruction) => boolean, from: number, to: number, after: (m: BootMachine) => T): { icount: number; rip: bigint; ins: Decoded; value: T } | null {
  const m = rerun(Math.max(0, from));
  let found: { icount: number; rip: bigint; ins: Decoded; value: T } | null = null;
  while (m.cpu.icount < to) {
    const icount = m.cpu.icount, rip = m.cpu.getRip();
    const ins = decodeAtRip(m);
    const hit = pred(ins.ins);
    m.run(1);
    const stuck = m.cpu.icount === icount; // faulted or stopped: nothing more to scan
    if (hit) { found?.ins.ins.free(); found = { icount, rip, ins, value: after(m) }; } else ins.ins.free();
    if (stuck) break;
  }
  return found;
}

/** The last instruction in [from, to) that writes register `reg`, with the register's value just after it. */
function lastWriterOf(rerun: Rerun, reg: number, from: number, to: number): { icount: number; rip: bigint; ins: Decoded; value: bigint } | null {
  return lastMatching(rerun, (ins) => registerAccesses(ins).some((a) => a.reg === reg && writes(a.mode)), from, to, (m) => m.cpu.getReg(reg));
}

/**
 * The selector a faulting segment-register load was loading from the GDT
 * (mov or pop to a segment register, lss/lfs/lgs), or null for any other
 * instruction or a null selector.
 */
function segmentLoadSelector(m: BootMachine, ins: Instruction): { selector: number } | null {
  let selector: number | null = null;
  const sreg = ins.op0Kind === OpKind.Register && ins.op0Register >= Register.ES && ins.op0Register <= Register.GS;
  if (ins.mnemonic === Mnemonic.Mov && sreg && ins.op1Kind === OpKind.Register) {
    const r = gprOf(ins.op1Register);
    if (r >= 0) selector = Number(m.cpu.getReg(r) & 0xffffn);
  } else if ((ins.mnemonic === Mnemonic.Mov && sreg) || (ins.mnemonic === Mnemonic.Pop && sreg) || ins.mnemonic === Mnemonic.Lss || ins.mnemonic === Mnemonic.Lfs || ins.mnemonic === Mnemonic.Lgs) {
    // The selector is in memory: a 16-bit read (mov/pop), or the last 2 bytes of a far pointer.
    const r = memoryReads(m, ins)[0];
    const p = r ? physOf(m, ins.mnemonic === Mnemonic.Mov || ins.mnemonic === Mnemonic.Pop ? r.lin : r.lin + BigInt(r.size - 2)) : null;
    if (p !== null) { const b = m.ram.read(p, 2); selector = b[0]! | (b[1]! << 8); }
  }
  return selector !== null && (selector & ~3) !== 0 && !(selector & 4) ? { selector } : null;
}

export function buildCauseChain(opts: CauseChainOptions): CauseStep[] {
  const window = opts.window ?? 20_000;
  const maxSteps = opts.maxSteps ?? 12;
  const steps: CauseStep[] = [];
  const step = (s: CauseStep) => { steps.push(s); return steps.length < maxSteps; };

  // 1. The faulting instruction and the register it used.
  const mf = opts.rerun(opts.faultIcount);
  const f = decodeAtRip(mf);
  const fRip = mf.cpu.getRip();
  const regsRead = registerAccesses(f.ins).filter((a, k, all) => reads(a.mode) && a.reg !== 4 && all.findIndex((b) => b.reg === a.reg && reads(b.mode)) === k);
  const memRead = memoryReads(mf, f.ins);
  const table = segmentLoadSelector(mf, f.ins);
  const regText = regsRead.map((a) => `${GPR[a.reg]} = ${hex(mf.cpu.getReg(a.reg))}`).join(', ');
  step({ kind: 'fault', icount: opts.faultIcount, rip: fRip, where: opts.describe(fRip, opts.faultIcount), instruction: f.text, bytes: hexBytes(f.bytes),
    text: `faulting instruction \`${f.text}\` at ${opts.describe(fRip, opts.faultIcount)}${regText ? ` with ${regText}` : ''}` });
  f.ins.free();

  // Every register it read is named; the chain follows the first (or the code, below), and says where the others came from.
  for (const a of regsRead.slice(1)) {
    const w = lastWriterOf(opts.rerun, a.reg, opts.faultIcount - window, opts.faultIcount);
    if (!w) continue;
    step({ kind: 'register', icount: w.icount, rip: w.rip, where: opts.describe(w.rip, w.icount), instruction: w.ins.text, bytes: hexBytes(w.ins.bytes), value: hex(w.value),
      text: `(also read) ${GPR[a.reg]} = ${hex(w.value)} was written by \`${w.ins.text}\` at ${opts.describe(w.rip, w.icount)}` });
    w.ins.ins.free();
  }
  let follow: { kind: 'reg'; reg: number; at: number } | { kind: 'mem'; phys: number; size: number; at: number } | null =
    regsRead.length ? { kind: 'reg', reg: regsRead[0]!.reg, at: opts.faultIcount }
      : memRead.length ? memFollow(mf, memRead[0]!, opts.faultIcount) : null;
  // A segment load fails on the descriptor table, not on its operand (a constant selector, as often as not):
  // follow the GDT — the bytes of the descriptor, or of the limit that excludes it — to where they came from.
  if (table) {
    const lg = lastMatching(opts.rerun, (i) => i.mnemonic === Mnemonic.Lgdt, opts.faultIcount - window, opts.faultIcount, () => null);
    const c = mf.cpu;
    const base = (BigInt(c.gdtrBaseHi >>> 0) << 32n) | BigInt(c.gdtrBaseLo >>> 0), limit = c.gdtrLimit >>> 0;
    const index = table.selector & ~7;
    const beyond = index + 7 > limit;
    // The descriptor is 8 bytes at base + index, unless the limit excludes it: then the limit is what to follow.
    if (!beyond) follow = memFollow(mf, { lin: base + BigInt(index), size: 8 }, opts.faultIcount);
    if (lg) {
      const ml = opts.rerun(lg.icount);
      const operand = memoryReads(ml, lg.ins.ins)[0];
      const text = lg.ins.text, bytes = hexBytes(lg.ins.bytes);
      lg.ins.ins.free();
      step({ kind: 'register', icount: lg.icount, rip: lg.rip, where: opts.describe(lg.rip, lg.icount), instruction: text, bytes, value: `${hex(base)}/${hex(limit)}`,
        text: `selector ${hex(table.selector)} needs GDT bytes ${hex(index)}..${hex(index + 7)}${beyond ? `, beyond the GDT limit ${hex(limit)}` : ''}; GDTR (base ${hex(base)}, limit ${hex(limit)}) was loaded by \`${text}\` at ${opts.describe(lg.rip, lg.icount)}` });
      // The limit is the first 2 bytes of lgdt's operand.
      if (beyond && operand) follow = memFollow(ml, { lin: operand.lin, size: 2 }, lg.icount);
    }
  }
  // Corrupted code: the instruction itself is the bad data.
  const codeAt = codePhys(mf.cpu, fRip);
  const codeLen = Math.max(1, Math.min(8, f.bytes.length));
  if (codeAt !== null && opts.codeCorrupted?.(codeAt, codeLen)) {
    step({ kind: 'memory', icount: opts.faultIcount, address: codeAt, value: Array.from(f.bytes, (b) => b.toString(16).padStart(2, '0')).join(' '),
      text: `its own bytes at phys ${hex(codeAt)} differ from vmlinux: the code itself was corrupted` });
    follow = { kind: 'mem', phys: codeAt, size: codeLen, at: opts.faultIcount };
  }

  while (follow && steps.length < maxSteps) {
    if (follow.kind === 'reg') {
      const { reg, at } = follow;
      // Look back `window` instructions, then ten times as far, before giving up.
      let writer = lastWriterOf(opts.rerun, reg, at - window, at);
      let searched = window;
      if (!writer && at > window) { writer = lastWriterOf(opts.rerun, reg, at - window * 10, at - window); searched = window * 10; }
      if (!writer) {
        step({ kind: 'end', icount: at - searched, text: `${GPR[reg]} was last written more than ${searched} instructions before — the chain stops here` });
        break;
      }
      const value = writer.value;
      // Re-run to just before the writer to compute its memory operands with its own registers.
      const mw = opts.rerun(writer.icount);
      const mems = memoryReads(mw, writer.ins.ins);
      const other = registerAccesses(writer.ins.ins).find((a) => reads(a.mode) && a.reg !== reg && a.reg !== 4);
      const text = writer.ins.text, bytes = hexBytes(writer.ins.bytes);
      writer.ins.ins.free();
      if (!step({ kind: 'register', icount: writer.icount, rip: writer.rip, where: opts.describe(writer.rip, writer.icount), instruction: text, bytes,
        value: hex(value),
        text: `${GPR[reg]} = ${hex(value)} was written by \`${text}\` at ${opts.describe(writer.rip, writer.icount)}` })) break;
      if (mems.length) { follow = memFollow(mw, mems[0]!, writer.icount); continue; }
      if (other) { follow = { kind: 'reg', reg: other.reg, at: writer.icount }; continue; }
      step({ kind: 'end', icount: writer.icount, text: `the value was computed by \`${text}\` from registers only` });
      break;
    }
    // Memory: who last wrote these bytes before `at`? Re-run with the frame tracked.
    const { phys, size, at } = follow;
    const m = opts.rerun(at, (mm) => mm.trackRange(phys, size));
    const bytes = m.ram.read(phys, size);
    const value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    let rec: WriteRecord | undefined;
    for (let k = 0; k < size; k++) {
      const r = m.ram.provenance.whoWrote(phys + k);
      // The latest writer of any of the bytes. At equal counts the CPU's write is the later one: a scheduled
      // (hypervisor) write at count T runs before the instruction that has count T.
      if (r && (!rec || r.icount > rec.icount || (r.icount === rec.icount && r.kind === 'cpu' && rec.kind !== 'cpu'))) rec = r;
    }
    if (!step({ kind: 'memory', icount: at, address: phys, value, text: `it read ${size} bytes at phys ${hex(phys)}: ${value}` })) break;
    if (!rec) { step({ kind: 'end', icount: at, address: phys, text: 'those bytes were not written since the kexec load: they are as loaded' }); break; }
    if (rec.kind === 'hypervisor' || rec.kind === 'device') {
      step({ kind: 'hypervisor', icount: rec.icount, address: phys, text: `those bytes were last written by the hypervisor: ${rec.what ?? 'a Xen write'} at instruction ${rec.icount}` });
      break;
    }
    if (rec.kind === 'loader') { step({ kind: 'loader', icount: rec.icount, address: phys, text: `those bytes were written by the loader (${rec.what ?? 'kexec'})` }); break; }
    // A CPU write: find where its value came from.
    const mw = opts.rerun(rec.icount);
    const w = decodeAtRip(mw);
    const wRip = mw.cpu.getRip();
    if (!step({ kind: 'write', icount: rec.icount, rip: wRip, where: opts.describe(wRip, rec.icount), instruction: w.text, bytes: hexBytes(w.bytes), address: phys,
      text: `those bytes were last written by \`${w.text}\` at ${opts.describe(wRip, rec.icount)}, instruction ${rec.icount}` })) break;
    if (/^(rep )?movs/.test(w.text)) {
      // A string copy: the byte at phys came from the same offset in the source.
      const c = mw.cpu;
      const rdiPhys = physOf(mw, c.getReg(7));
      const srcLin = c.getReg(6) + BigInt(phys - (rdiPhys ?? phys));
      const src = physOf(mw, srcLin);
      if (src === null || rdiPhys === null) { step({ kind: 'end', icount: rec.icount, text: 'the copy\'s source is not mapped' }); break; }
      step({ kind: 'copy', icount: rec.icount, address: src, text: `it copied them from phys ${hex(src)}` });
      follow = { kind: 'mem', phys: src, size, at: rec.icount };
      w.ins.free();
      continue;
    }
    // A read-modify-write (add %rax,(%rdx)): the old bytes are the interesting input.
    const rmw = memoryReads(mw, w.ins).map((r) => ({ r, p: physOf(mw, r.lin) })).find((x) => x.p !== null && x.p <= phys && phys < x.p + x.r.size);
    if (rmw) {
      step({ kind: 'copy', icount: rec.icount, address: rmw.p!, text: `it updated them in place (read-modify-write): the old value at phys ${hex(rmw.p!)} was its input` });
      follow = { kind: 'mem', phys: rmw.p!, size, at: rec.icount };
      w.ins.free();
      continue;
    }
    const src = registerAccesses(w.ins).find((a) => reads(a.mode) && a.reg !== 4 && !memoryOperandRegister(w.ins, a.reg));
    w.ins.free();
    if (src) { follow = { kind: 'reg', reg: src.reg, at: rec.icount }; continue; }
    step({ kind: 'end', icount: rec.icount, text: 'the stored value does not come from a register or a copy' });
    break;
  }
  return steps;
}

/** True when `reg` is used to address memory in `ins` (base or index) — then it is not the stored data. */
function memoryOperandRegister(ins: Instruction, reg: number): boolean {
  const info = infoFactory.info(ins);
  const used = (info.usedMemory() as { base: number; index: number }[]).some((u) => gprOf(u.base) === reg || gprOf(u.index) === reg);
  info.free();
  return used;
}

function memFollow(m: BootMachine, r: { lin: bigint; size: number }, at: number): { kind: 'mem'; phys: number; size: number; at: number } | null {
  const p = physOf(m, r.lin);
  return p === null ? null : { kind: 'mem', phys: p, size: r.size, at };
}

/** The chain as text, one step a line. */
export function formatCauseChain(steps: CauseStep[]): string {
  return steps.map((s, k) => `${String(k + 1).padStart(2)}. [${s.icount}] ${s.text}${s.bytes ? ` [${s.bytes}]` : ''}`).join('\n');
}
