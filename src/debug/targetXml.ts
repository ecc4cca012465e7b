// The target description gdb reads with qXfer:features:read, generated from
// the register table: architecture i386:x86-64 and four features, gdb's own
// core, sse and segments features (gdb checks their register names and gives
// them their meaning) and one of ours for the system registers. Every
// register carries its number, so the features can list them in any order.
import { REGISTERS, type RegisterFeature } from './registers.ts';

const FEATURE_NAMES: Record<RegisterFeature, string> = {
  core: 'org.gnu.gdb.i386.core',
  sse: 'org.gnu.gdb.i386.sse',
  segments: 'org.gnu.gdb.i386.segments',
  system: 'org.bootpath.x86-64.system',
};

type Fields = Array<[name: string, bit: number]>;
interface FlagsType { kind: 'flags'; id: string; size: number; fields: Fields }
interface UnionType { kind: 'union'; id: string; vectors: Array<[id: string, elem: string, count: number]>; fields: Array<[name: string, type: string]> }
type TypeDef = FlagsType | UnionType;

const EFLAGS: Fields = [['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21]];
const MXCSR: Fields = [['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9],
  ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15]];
const CR0: Fields = [['PE', 0], ['MP', 1], ['EM', 2], ['TS', 3], ['ET', 4], ['NE', 5], ['WP', 16], ['AM', 18], ['NW', 29], ['CD', 30], ['PG', 31]];
const CR4: Fields = [['VME', 0], ['PVI', 1], ['TSD', 2], ['DE', 3], ['PSE', 4], ['PAE', 5], ['MCE', 6], ['PGE', 7], ['PCE', 8], ['OSFXSR', 9],
  ['OSXMMEXCPT', 10], ['UMIP', 11], ['LA57', 12], ['VMXE', 13], ['SMXE', 14], ['FSGSBASE', 16], ['PCIDE', 17], ['OSXSAVE', 18],
  ['SMEP', 20], ['SMAP', 21], ['PKE', 22]];
const EFER: Fields = [['SCE', 0], ['LME', 8], ['LMA', 10], ['NXE', 11], ['SVME', 12], ['LMSLE', 13], ['FFXSR', 14], ['TCE', 15]];

/** The types each feature defines (gdb looks a register's type up in its own feature, then among the predefined ones). */
const FEATURE_TYPES: Record<RegisterFeature, TypeDef[]> = {
  core: [{ kind: 'flags', id: 'i386_eflags', size: 4, fields: EFLAGS }],
  sse: [
    {
      kind: 'union', id: 'vec128',
      vectors: [['v4f', 'ieee_single', 4], ['v2d', 'ieee_double', 2], ['v16i8', 'int8', 16], ['v8i16', 'int16', 8], ['v4i32', 'int32', 4], ['v2i64', 'int64', 2]],
      fields: [['v4_float', 'v4f'], ['v2_double', 'v2d'], ['v16_int8', 'v16i8'], ['v8_int16', 'v8i16'], ['v4_int32', 'v4i32'], ['v2_int64', 'v2i64'], ['uint128', 'uint128']],
    },
    { kind: 'flags', id: 'i386_mxcsr', size: 4, fields: MXCSR },
  ],
  segments: [],
  system: [
    { kind: 'flags', id: 'x64_cr0', size: 8, fields: CR0 },
    { kind: 'flags', id: 'x64_cr4', size: 8, fields: CR4 },
    { kind: 'flags', id: 'x64_efer', size: 8, fields: EFER },
  ],
};

function typeXml(t: TypeDef): string[] {
  if (t.kind === 'flags') {
    return [`    <flags id="${t.id}" size="${t.size}">`, ...t.fields.map(([n, b]) => `      <field name="${n}" start="${b}" end="${b}"/>`), '    </flags>'];
  }
  return [
    ...t.vectors.map(([id, elem, count]) => `    <vector id="${id}" type="${elem}" count="${count}"/>`),
    `    <union id="${t.id}">`, ...t.fields.map(([n, ty]) => `      <field name="${n}" type="${ty}"/>`), '    </union>',
  ];
}

function featureXml(feature: RegisterFeature): string[] {
  const regs = REGISTERS.flatMap((r, k) => (r.feature !== feature ? [] : [
    `    <reg name="${r.name}" bitsize="${r.size * 8}" type="${r.type}" regnum="${k}"${r.group ? ` group="${r.group}"` : ''}/>`,
  ]));
  return [`  <feature name="${FEATURE_NAMES[feature]}">`, ...FEATURE_TYPES[feature].flatMap(typeXml), ...regs, '  </feature>'];
}

/** target.xml: the whole description in one document (no includes). */
export function targetXml(): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '  <architecture>i386:x86-64</architecture>',
    ...(['core', 'sse', 'segments', 'system'] as const).flatMap(featureXml),
    '</target>',
    '',
  ].join('\n');
}

/** The annexes qXfer:features:read serves. */
export function featureFiles(): ReadonlyMap<string, string> { return new Map([['target.xml', targetXml()]]); }
