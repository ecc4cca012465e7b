// flags.ts's lazy-flag evaluation as Wasm functions over the nine fields
// (fOp fSize fA fAh fB fBh fR fRh fAux as parameters 0-8): getCF, and
// condition(cc) with cc as parameter 9. Same results as the JS functions
// for every field value (test/emulator/wasmBackend.test.ts checks them).
import { Op, I32 } from './encode.ts';
import { Fn } from './fn.ts';
import { LazyOp } from '../../flags.ts';

const OPF = 0, SIZE = 1, A = 2, AH = 3, B = 4, BH = 5, R = 6, RH = 7, AUX = 8;
export const FLAG_PARAMS = [I32, I32, I32, I32, I32, I32, I32, I32, I32];

/** i64 of two i32 parameters (lo, hi). */
function join(f: Fn, lo: number, hi: number): void {
  f.get(lo).op(Op.i64ExtendI32U).get(hi).op(Op.i64ExtendI32U).i64(32, 0).op(Op.i64Shl, Op.i64Or);
}
/** 32 - fSize (the shift that puts a narrow value's top bit at bit 31). */
function sh(f: Fn): void { f.i32(32).get(SIZE).op(Op.i32Sub); }
function is64(f: Fn): void { f.get(SIZE).i32(64).op(Op.i32Eq); }
function isNone(f: Fn): void { f.get(OPF).op(Op.i32Eqz); }

function cf(f: Fn): void {
  f.get(OPF).i32(LazyOp.Logic).op(Op.i32Eq);
  f.open(Op.if, I32); f.i32(0);
  f.else();
  // Add, Adc, Sub, Sbb: CF = u < v, or u <= v with a carry in; (u, v) = (r, a) for add, (a, b) for sub.
  f.get(OPF).i32(LazyOp.Add).op(Op.i32Sub).i32(3).op(Op.i32LeU);
  f.open(Op.if, I32);
  {
    const sub = (): void => { f.get(OPF).i32(LazyOp.Sub).op(Op.i32GeU); };
    const carry = (): void => {
      f.get(OPF).i32(LazyOp.Adc).op(Op.i32Eq).get(OPF).i32(LazyOp.Sbb).op(Op.i32Eq).op(Op.i32Or).get(AUX).op(Op.i32And).i32(1).op(Op.i32And);
    };
    is64(f);
    f.open(Op.if, I32);
    // u, v as i64 into the stack: select(a, r, sub), select(b, a, sub)
    join(f, A, AH); join(f, R, RH); sub(); f.op(Op.select);
    join(f, B, BH); join(f, A, AH); sub(); f.op(Op.select);
    // stack: u v -> need both compares; recompute (cheap, rare path)
    f.op(Op.i64LeU);
    join(f, A, AH); join(f, R, RH); sub(); f.op(Op.select);
    join(f, B, BH); join(f, A, AH); sub(); f.op(Op.select);
    f.op(Op.i64LtU);
    carry(); f.op(Op.select);
    f.else();
    const u = (): void => { f.get(A).get(R); sub(); f.op(Op.select); sh(f); f.op(Op.i32Shl); };
    const v = (): void => { f.get(B).get(A); sub(); f.op(Op.select); sh(f); f.op(Op.i32Shl); };
    u(); v(); f.op(Op.i32LeU);
    u(); v(); f.op(Op.i32LtU);
    carry(); f.op(Op.select);
    f.close();
  }
  f.else();
  f.get(AUX).i32(1).op(Op.i32And);
  f.close();
  f.close();
}

function zf(f: Fn): void {
  isNone(f);
  f.open(Op.if, I32); f.get(AUX).i32(6).op(Op.i32ShrU).i32(1).op(Op.i32And);
  f.else();
  is64(f);
  f.open(Op.if, I32); f.get(R).get(RH).op(Op.i32Or, Op.i32Eqz);
  f.else(); f.get(R); sh(f); f.op(Op.i32Shl, Op.i32Eqz);
  f.close();
  f.close();
}

function sf(f: Fn): void {
  isNone(f);
  f.open(Op.if, I32); f.get(AUX).i32(7).op(Op.i32ShrU).i32(1).op(Op.i32And);
  f.else();
  is64(f);
  f.open(Op.if, I32); f.get(RH).i32(31).op(Op.i32ShrU);
  f.else(); f.get(R); sh(f); f.op(Op.i32Shl).i32(31).op(Op.i32ShrU);
  f.close();
  f.close();
}

function pf(f: Fn): void {
  isNone(f);
  f.open(Op.if, I32); f.get(AUX).i32(2).op(Op.i32ShrU).i32(1).op(Op.i32And);
  f.else(); f.get(R).i32(255).op(Op.i32And, Op.i32Popcnt).i32(1).op(Op.i32And).i32(1).op(Op.i32Xor);
  f.close();
}

function of(f: Fn): void {
  // Add Adc Inc: (a^r)&(b^r); Sub Sbb Dec: (a^b)&(a^r); the top bit of the operand size.
  const arith = (): void => {
    f.get(OPF).i32(LazyOp.Add).op(Op.i32Eq).get(OPF).i32(LazyOp.Adc).op(Op.i32Eq).op(Op.i32Or)
      .get(OPF).i32(LazyOp.Inc).op(Op.i32Eq).op(Op.i32Or);
  };
  const subLike = (): void => {
    f.get(OPF).i32(LazyOp.Sub).op(Op.i32Eq).get(OPF).i32(LazyOp.Sbb).op(Op.i32Eq).op(Op.i32Or)
      .get(OPF).i32(LazyOp.Dec).op(Op.i32Eq).op(Op.i32Or);
  };
  const expr = (x: number, y: number, z: number): void => {
    // add: (x^z)&(y^z) with x=a y=b z=r; sub: (x^y)&(x^z)
    f.get(x).get(z).op(Op.i32Xor).get(y).get(z).op(Op.i32Xor).op(Op.i32And);
  };
  const expr2 = (x: number, y: number, z: number): void => {
    f.get(x).get(y).op(Op.i32Xor).get(x).get(z).op(Op.i32Xor).op(Op.i32And);
  };
  arith();
  f.open(Op.if, I32);
  is64(f);
  f.open(Op.if, I32); expr(AH, BH, RH); f.i32(31).op(Op.i32ShrU);
  f.else(); expr(A, B, R); sh(f); f.op(Op.i32Shl).i32(31).op(Op.i32ShrU);
  f.close();
  f.else();
  subLike();
  f.open(Op.if, I32);
  is64(f);
  f.open(Op.if, I32); expr2(AH, BH, RH); f.i32(31).op(Op.i32ShrU);
  f.else(); expr2(A, B, R); sh(f); f.op(Op.i32Shl).i32(31).op(Op.i32ShrU);
  f.close();
  f.else();
  f.get(OPF).i32(LazyOp.Logic).op(Op.i32Eq);
  f.open(Op.if, I32); f.i32(0);
  f.else(); f.get(AUX).i32(11).op(Op.i32ShrU).i32(1).op(Op.i32And);
  f.close();
  f.close();
  f.close();
}

/** getCF(fields) -> i32 */
export function cfFunction(): Fn {
  const f = new Fn(FLAG_PARAMS);
  cf(f);
  return f;
}

/** condition(fields, cc) -> i32 (0/1), cc as the 10th parameter. */
export function condFunction(): Fn {
  const f = new Fn([...FLAG_PARAMS, I32]);
  const CC = 9;
  const base = f.local(I32);
  f.get(CC).i32(1).op(Op.i32ShrU).set(base);
  // condition()'s compare-and-branch shortcut (sub records of 32 and 64 bits answered from the operands), kept so
  // that the result is the same even for a record whose result does not match its operands.
  const isSub = (size: number) => { f.get(OPF).i32(LazyOp.Sub).op(Op.i32Eq).get(SIZE).i32(size).op(Op.i32Eq).op(Op.i32And); };
  isSub(32); f.i32(0b11001110).get(base).op(Op.i32ShrU).i32(1).op(Op.i32And).op(Op.i32And);
  f.open(Op.if);
  // (select: v1 v2 c -> c ? v1 : v2)
  f.get(A).get(B).op(Op.i32LeU).get(A).get(B).op(Op.i32Eq).get(base).i32(3).op(Op.i32Eq).op(Op.select); // base 3 ? le : eq
  f.get(A).get(B).op(Op.i32LtU).get(base).i32(2).op(Op.i32GeU).op(Op.select); // base >= 2 ? that : lt (base 1)
  f.get(A).get(B).op(Op.i32LeS).get(A).get(B).op(Op.i32LtS).get(base).i32(7).op(Op.i32Eq).op(Op.select); // base 7 ? les : lts
  f.get(base).i32(6).op(Op.i32LtU).op(Op.select);
  f.get(CC).i32(1).op(Op.i32And, Op.i32Xor, Op.return);
  f.close();
  isSub(64); f.get(base).i32(2).op(Op.i32Eq).op(Op.i32And);
  f.open(Op.if);
  f.get(A).get(B).op(Op.i32Eq).get(AH).get(BH).op(Op.i32Eq).op(Op.i32And).get(CC).i32(1).op(Op.i32And, Op.i32Xor, Op.return);
  f.close();
  // Nested ifs on base: 0 OF, 1 CF, 2 ZF, 3 CF|ZF, 4 SF, 5 PF, 6 SF!=OF, 7 ZF|(SF!=OF).
  const cases: (() => void)[] = [
    () => of(f), () => cf(f), () => zf(f), () => { cf(f); zf(f); f.op(Op.i32Or); },
    () => sf(f), () => pf(f), () => { sf(f); of(f); f.op(Op.i32Xor); }, () => { zf(f); sf(f); of(f); f.op(Op.i32Xor, Op.i32Or); },
  ];
  for (let k = 0; k < 7; k++) {
    f.get(base).i32(k).op(Op.i32Eq);
    f.open(Op.if, I32); cases[k]!();
    f.else();
  }
  cases[7]!();
  for (let k = 0; k < 7; k++) f.close();
  f.get(CC).i32(1).op(Op.i32And, Op.i32Xor);
  return f;
}
