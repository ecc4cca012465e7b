// A function body under construction: locals, structured control with the
// depth a branch needs, and the few instruction shapes the backend uses.
import { Op, I32, I64, VOID, uleb, sleb32, sleb64 } from './encode.ts';

export class Fn {
  readonly body: number[] = [];
  /** Types of the locals declared after the parameters. */
  readonly locals: number[] = [];
  /** Open blocks, loops and ifs. */
  depth = 0;
  constructor(readonly params: number[]) {}

  local(type: number): number { this.locals.push(type); return this.params.length + this.locals.length - 1; }
  op(...bytes: number[]): this { for (const b of bytes) this.body.push(b); return this; }
  get(l: number): this { this.body.push(Op.localGet); uleb(l, this.body); return this; }
  set(l: number): this { this.body.push(Op.localSet); uleb(l, this.body); return this; }
  tee(l: number): this { this.body.push(Op.localTee); uleb(l, this.body); return this; }
  i32(v: number): this { this.body.push(Op.i32Const); sleb32(v, this.body); return this; }
  i64(lo: number, hi: number): this { this.body.push(Op.i64Const); sleb64(lo, hi, this.body); return this; }
  /** A load or store with a constant offset (alignment hint 1 byte: guest accesses may be unaligned). */
  mem(op: number, offset: number): this { this.body.push(op, 0); uleb(offset, this.body); return this; }
  call(f: number): this { this.body.push(Op.call); uleb(f, this.body); return this; }

  /** Open a block/loop/if (type VOID, I32 or I64); returns its depth for `br`. */
  open(op: number, type: number = VOID): number { this.body.push(op, type); return ++this.depth; }
  else(): this { this.body.push(Op.else); return this; }
  close(): this { this.body.push(Op.end); this.depth--; return this; }
  /** Branch to the block/loop opened at `target` (a depth `open` returned). */
  br(target: number, cond = false): this { this.body.push(cond ? Op.brIf : Op.br); uleb(this.depth - target, this.body); return this; }

  // Value helpers (operands already on the stack).
  /** i64 from 32-bit halves loaded at two addresses (the register file's lo[] and hi[]). */
  loadPair(loAddr: number, hiAddr: number): this {
    return this.i32(0).mem(Op.i64Load32U, loAddr).i32(0).mem(Op.i64Load32U, hiAddr).i64(32, 0).op(Op.i64Shl, Op.i64Or);
  }
  /** Store an i64 local as two halves. */
  storePair(l: number, loAddr: number, hiAddr: number): this {
    return this.i32(0).get(l).mem(Op.i64Store32, loAddr).i32(0).get(l).i64(32, 0).op(Op.i64ShrU).mem(Op.i64Store32, hiAddr);
  }
}

export { I32, I64, VOID };
