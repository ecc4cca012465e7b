// The state of a running machine, captured in place: every object reachable
// from a set of roots has its own fields remembered (primitives by value,
// typed arrays copied, references kept as the same objects), and restoring
// puts those fields back into the same objects. Identity survives, so the
// closures that devices, the scheduler and the Xen shim hold onto keep
// working after a restore, and nothing needs a save/restore method of its
// own. The rule that makes this sound: mutable state lives in object fields
// (never only in a closure's variables), and caches or immutable inputs
// are named in `skip` (guest RAM itself is checkpointed page by page).

type Entry =
  | { kind: 'object'; obj: Record<string, unknown>; keys: string[]; values: unknown[]; skipped: ReadonlySet<string> | undefined }
  | { kind: 'array'; arr: unknown[]; values: unknown[] }
  | { kind: 'map'; map: Map<unknown, unknown>; entries: [unknown, unknown][] }
  | { kind: 'set'; set: Set<unknown>; values: unknown[] }
  | { kind: 'typed'; arr: ArrayLike<number> & { set(a: ArrayLike<number>): void }; copy: ArrayLike<number> };

export interface StateImage {
  readonly entries: Entry[];
  /** Bytes held by typed-array copies (for memory accounting). */
  readonly bytes: number;
}

export interface CaptureOptions {
  /** Objects not to walk or restore (caches, guest RAM arrays, immutable inputs): references to them are kept as they are. */
  skip: ReadonlySet<object>;
  /** Fields not to walk or restore, by the object that owns them. */
  skipFields?: ReadonlyMap<object, ReadonlySet<string>>;
}

function walkable(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  return !(v instanceof DataView || v instanceof ArrayBuffer || v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet);
}

/** Remember the state of everything reachable from `roots`. */
export function captureState(roots: object[], opts: CaptureOptions): StateImage {
  const seen = new Set<object>();
  const entries: Entry[] = [];
  let bytes = 0;
  const stack: object[] = [...roots];
  const visit = (v: unknown) => { if (walkable(v) && !seen.has(v) && !opts.skip.has(v)) stack.push(v); };
  while (stack.length) {
    const o = stack.pop()!;
    if (seen.has(o) || opts.skip.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o)) {
      const t = o as unknown as Uint8Array;
      entries.push({ kind: 'typed', arr: t, copy: t.slice() });
      bytes += t.byteLength;
    } else if (Array.isArray(o)) {
      const values = o.slice();
      entries.push({ kind: 'array', arr: o, values });
      for (const v of values) visit(v);
    } else if (o instanceof Map) {
      const list = [...o.entries()];
      entries.push({ kind: 'map', map: o, entries: list });
      for (const [k, v] of list) { visit(k); visit(v); }
    } else if (o instanceof Set) {
      const values = [...o.values()];
      entries.push({ kind: 'set', set: o, values });
      for (const v of values) visit(v);
    } else {
      const rec = o as Record<string, unknown>;
      const skipped = opts.skipFields?.get(o);
      const keys = Object.keys(rec).filter((k) => !skipped?.has(k));
      const values = keys.map((k) => rec[k]);
      entries.push({ kind: 'object', obj: rec, keys, values, skipped });
      for (const v of values) visit(v);
    }
  }
  return { entries, bytes };
}

/** Put every captured object back as it was (objects created since are left alone: nothing reachable refers to them any more). */
export function restoreState(img: StateImage): void {
  for (const e of img.entries) {
    switch (e.kind) {
      case 'object': {
        const o = e.obj;
        // Fields added since the capture go (e.g. a phase's start time recorded later).
        const now = Object.keys(o);
        for (const k of now) if (!e.keys.includes(k) && !e.skipped?.has(k)) delete o[k];
        for (let k = 0; k < e.keys.length; k++) o[e.keys[k]!] = e.values[k];
        break;
      }
      case 'array':
        e.arr.length = e.values.length;
        for (let k = 0; k < e.values.length; k++) e.arr[k] = e.values[k];
        break;
      case 'map':
        e.map.clear();
        for (const [k, v] of e.entries) e.map.set(k, v);
        break;
      case 'set':
        e.set.clear();
        for (const v of e.values) e.set.add(v);
        break;
      case 'typed':
        e.arr.set(e.copy);
        break;
    }
  }
}
