// A minimal WebAssembly binary writer for the block backend: opcodes as
// named constants, LEB128 immediates, and one module shape (imported memory
// and functions, one exported function). Just what compile.ts needs.

export const I32 = 0x7f, I64 = 0x7e, VOID = 0x40;

/** Opcodes (WebAssembly core spec, binary format, section 5.4). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10,
  drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Load8U: 0x2d, i32Load16U: 0x2f, i64Load32U: 0x35,
  i32Store: 0x36, i64Store: 0x37, i32Store8: 0x3a, i32Store16: 0x3b, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b, i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56, i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  i32Popcnt: 0x69, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74, i32ShrS: 0x75, i32ShrU: 0x76, i32Rotl: 0x77, i32Rotr: 0x78,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrS: 0x87, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
} as const;

/** Unsigned LEB128 of a non-negative integer below 2^32. */
export function uleb(v: number, out: number[]): void {
  v >>>= 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

/** Signed LEB128 of an int32. */
export function sleb32(v: number, out: number[]): void {
  v |= 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) { out.push(byte); return; }
    out.push(byte | 0x80);
  }
}

/** Signed LEB128 of a 64-bit value given as 32-bit halves (compile time only). */
export function sleb64(lo: number, hi: number, out: number[]): void {
  let v = (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)) { out.push(byte); return; }
    out.push(byte | 0x80);
  }
}

function vec(items: number[][], out: number[]): void {
  uleb(items.length, out);
  for (const x of items) for (const b of x) out.push(b);
}

function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  for (const b of body) out.push(b);
}

function name(s: string): number[] {
  const out: number[] = [];
  uleb(s.length, out);
  for (let k = 0; k < s.length; k++) out.push(s.charCodeAt(k));
  return out;
}

export interface FuncType { params: number[]; results: number[] }
export interface ModuleSpec {
  /** Imported functions ("env", name) with their types; their indices come first. */
  imports: { name: string; type: FuncType }[];
  /** Pages the imported memory ("env", "mem") has at least. */
  memoryPages: number;
  /** Defined functions: type, local declarations (after the params) and body (without the final `end`). The first is exported as "run". */
  funcs: { type: FuncType; locals: number[]; body: number[] }[];
}

/** The bytes of a module. */
export function encodeModule(m: ModuleSpec): Uint8Array {
  const types: FuncType[] = [];
  const typeIndex = (t: FuncType): number => {
    const k = types.findIndex((x) => x.params.join() === t.params.join() && x.results.join() === t.results.join());
    if (k >= 0) return k;
    types.push(t);
    return types.length - 1;
  };
  const importTypes = m.imports.map((x) => typeIndex(x.type));
  const funcTypes = m.funcs.map((f) => typeIndex(f.type));
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const tsec: number[] = [];
  vec(types.map((t) => { const b = [0x60]; vec(t.params.map((p) => [p]), b); vec(t.results.map((r) => [r]), b); return b; }), tsec);
  section(1, tsec, out);
  const isec: number[] = [];
  const imps = m.imports.map((x, k) => { const b = [...name('env'), ...name(x.name), 0x00]; uleb(importTypes[k]!, b); return b; });
  const mem = [...name('env'), ...name('mem'), 0x02, 0x00];
  uleb(m.memoryPages, mem);
  vec([...imps, mem], isec);
  section(2, isec, out);
  const fsec: number[] = [];
  vec(funcTypes.map((t) => { const b: number[] = []; uleb(t, b); return b; }), fsec);
  section(3, fsec, out);
  const esec: number[] = [];
  const exp = [...name('run'), 0x00];
  uleb(m.imports.length, exp);
  vec([exp], esec);
  section(7, esec, out);
  const csec: number[] = [];
  vec(m.funcs.map((f) => {
    // Locals run-length encoded by type.
    const groups: number[][] = [];
    for (const t of f.locals) {
      const g = groups[groups.length - 1];
      if (g !== undefined && g[1] === t) g[0]!++;
      else groups.push([1, t]);
    }
    const body: number[] = [];
    uleb(groups.length, body);
    for (const [n, t] of groups) { uleb(n!, body); body.push(t!); }
    for (const b of f.body) body.push(b);
    body.push(Op.end);
    const sized: number[] = [];
    uleb(body.length, sized);
    for (const b of body) sized.push(b);
    return sized;
  }), csec);
  section(10, csec, out);
  return Uint8Array.from(out);
}
