// Every export of the library entry (src/index.ts) is documented where it is
// declared: functions, classes and their public members, constants, and each
// field of the interfaces (options and results). A small reader of our own
// source style finds the declarations, following re-exports.
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => readFileSync(f, 'utf8');

/** The names a module re-exports with `export { a, type B } from './x.ts'`, with the file they come from. */
function reexports(file: string): { name: string; from: string }[] {
  const out: { name: string; from: string }[] = [];
  for (const m of read(file).matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) out.push({ name, from: resolve(dirname(file), m[2]!) });
    }
  }
  return out;
}

/** Where `name` is declared, starting at `file` and following `export { } from` and `export * from`. */
function declaration(file: string, name: string, seen = new Set<string>()): { file: string; index: number } | null {
  if (seen.has(file) || !existsSync(file)) return null;
  seen.add(file);
  const text = read(file);
  const decl = new RegExp(`^export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function|class|interface|type|const|let|enum)\\s+${name}\\b`, 'm').exec(text);
  if (decl) return { file, index: decl.index };
  for (const r of reexports(file)) if (r.name === name) return declaration(r.from, name, seen);
  for (const m of text.matchAll(/export\s+\*\s+from\s*'([^']+)'/g)) {
    const d = declaration(resolve(dirname(file), m[1]!), name, seen);
    if (d) return d;
  }
  return null;
}

/** Whether a /** comment ends right before `index` (only whitespace between). */
function documentedAt(text: string, index: number): boolean {
  const before = text.slice(0, index).trimEnd();
  if (!before.endsWith('*/')) return false;
  return before.lastIndexOf('/**') > before.lastIndexOf('*/', before.length - 3);
}

/** The body of the { } block starting at or after `index`. */
function block(text: string, index: number): { start: number; end: number } {
  const open = text.indexOf('{', index);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return { start: open + 1, end: i };
  }
  return { start: open + 1, end: text.length };
}

/** Members at the top level of a block: `name?:`, `name(`, `get name(`, `readonly name:` (skipping private/protected ones and comments). */
function members(text: string, body: { start: number; end: number }): { name: string; index: number }[] {
  const out: { name: string; index: number }[] = [];
  let depth = 0;
  let lineStart = true;
  for (let i = body.start; i < body.end; i++) {
    const ch = text[i]!;
    if (text.startsWith('/*', i)) { i = text.indexOf('*/', i) + 1; continue; }
    if (text.startsWith('//', i)) { i = text.indexOf('\n', i) - 1; continue; }
    if (ch === '{' || ch === '(' || ch === '[') depth++;
    else if (ch === '}' || ch === ')' || ch === ']') depth--;
    if (ch === '\n' || ch === ';') { lineStart = true; continue; }
    if (depth !== 0 || /\s/.test(ch) || !lineStart) continue;
    lineStart = false;
    const m = /^(?:(?:readonly|static|override|abstract|get|set|async)\s+)*([A-Za-z_$][\w$]*)\??\s*[:(<]/.exec(text.slice(i, i + 200));
    const skip = /^(?:private|protected)\b/.test(text.slice(i, i + 20));
    if (m && !skip && m[1] !== 'constructor') out.push({ name: m[1]!, index: i });
  }
  return out;
}

describe('the public API is documented where it is declared', () => {
  const entry = resolve(root, 'src/index.ts');
  const names = reexports(entry);

  it('finds every export of src/index.ts', () => {
    expect(names.length).toBeGreaterThan(30);
    const missing = names.filter((n) => declaration(n.from, n.name) === null).map((n) => n.name);
    expect(missing).toEqual([]);
  });

  it('has TSDoc on each export, and on each member of its classes and interfaces', () => {
    const undocumented: string[] = [];
    for (const { name, from } of names) {
      const d = declaration(from, name)!;
      const text = read(d.file);
      const where = `${d.file.slice(root.length + 1)}: ${name}`;
      if (!documentedAt(text, d.index)) undocumented.push(where);
      const kind = /^export\s+(?:declare\s+)?(?:abstract\s+)?(class|interface)\b/.exec(text.slice(d.index));
      if (!kind) continue;
      const head = text.slice(d.index, text.indexOf('{', d.index));
      if (kind[1] === 'interface' && /=/.test(head)) continue;
      for (const m of members(text, block(text, d.index))) {
        if (!documentedAt(text, m.index)) undocumented.push(`${where}.${m.name}`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});
