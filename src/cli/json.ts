// JSON for --json output: bigints as hex strings, byte arrays as hex.
// Every command's document starts with the schema and the command's name
// (docs/json.md).

/** The schema every --json document names. */
export const JSON_SCHEMA = 'bootpath/1';

/** A command's --json document: { schema, command, ...data }, pretty-printed, with a final newline. */
export function jsonDocument(command: string, data: object): string {
  return JSON.stringify(toJson({ schema: JSON_SCHEMA, command, ...data }), null, 2) + '\n';
}

export function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toJson(x);
    return o;
  }
  return v;
}
