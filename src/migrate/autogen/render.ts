import type { Op } from '../ops/types.js';
import type { PlannedOp } from './plan.js';

/**
 * Operations as the TypeScript a person would write in a revision: calls on
 * the `Operations` context, formatted, with each note as a comment above its
 * call. Pure. Reverse-only fields (`restore`, `previous`) are left out: the
 * generated file spells its downgrade out.
 */

type Value = string | number | boolean | null | undefined | readonly Value[] | { readonly [k: string]: Value };

const WIDTH = 110;
const KEY = /^[A-Za-z_$][\w$]*$/;

function str(s: string): string {
  if (s.includes('\n')) return `\`${s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A JavaScript literal, on one line when it fits (and `broken` is not asked for), otherwise one element per line. */
export function literal(v: Value, indent = '', broken = false): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined) return 'undefined';
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    const items = (v as readonly Value[]).map((x) => literal(x, inner));
    const flat = `[${items.join(', ')}]`;
    return flat.length + indent.length <= WIDTH && !flat.includes('\n') ? flat : `[\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as { readonly [k: string]: Value })
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${KEY.test(k) ? k : str(k)}: ${literal(x, inner)}`);
  if (entries.length === 0) return '{}';
  const flat = `{ ${entries.join(', ')} }`;
  return !broken && flat.length + indent.length <= WIDTH && !flat.includes('\n') ? flat : `{\n${entries.map((e) => `${inner}${e},`).join('\n')}\n${indent}}`;
}

function call(method: string, args: Value[], indent: string): string {
  while (args.length && args[args.length - 1] === undefined) args.pop();
  const flat = `await op.${method}(${args.map((a) => literal(a, indent)).join(', ')});`;
  if (flat.length + indent.length <= WIDTH && !flat.includes('\n')) return flat;
  const only = args.length === 1 ? args[0] : undefined;
  if (only !== null && typeof only === 'object' && !Array.isArray(only)) return `await op.${method}(${literal(only, indent, true)});`;
  const inner = indent + '  ';
  return `await op.${method}(\n${args.map((a) => `${inner}${literal(a, inner)},`).join('\n')}\n${indent});`;
}

/** The named fields that are set, or undefined when none is (an options argument left out). */
function only<T extends object>(o: T, ...keys: (keyof T)[]): Value {
  const set = keys.filter((k) => o[k] !== undefined);
  return set.length ? (Object.fromEntries(set.map((k) => [k, o[k] as Value])) as Value) : undefined;
}

export function renderCall(o: Op, indent = '    '): string {
  switch (o.op) {
    case 'createTable':
      return call('createTable', [o.table, o.columns as unknown as Value, o.constraints?.length ? (o.constraints as unknown as Value) : undefined], indent);
    case 'dropTable':
      return call('dropTable', [o.table, only(o, 'ifExists', 'cascade')], indent);
    case 'renameTable':
      return call('renameTable', [o.table, o.to], indent);
    case 'addColumn': {
      const { name, ...spec } = o.column;
      return call('addColumn', [o.table, name, spec as Value], indent);
    }
    case 'dropColumn':
      return call('dropColumn', [o.table, o.column, only(o, 'ifExists')], indent);
    case 'alterColumn':
      return call('alterColumn', [o.table, o.column, o.set as Value], indent);
    case 'renameColumn':
      return call('renameColumn', [o.table, o.column, o.to], indent);
    case 'createIndex':
      return call('createIndex', [o.name, o.table, o.columns as unknown as Value, only(o, 'unique', 'using', 'where', 'concurrently', 'ifNotExists')], indent);
    case 'dropIndex':
      return call('dropIndex', [o.name, only(o, 'concurrently', 'ifExists')], indent);
    case 'renameIndex':
      return call('renameIndex', [o.name, o.to], indent);
    case 'addConstraint':
      return call('addConstraint', [o.table, o.constraint as unknown as Value], indent);
    case 'dropConstraint':
      return call('dropConstraint', [o.table, o.name, only(o, 'ifExists')], indent);
    case 'renameConstraint':
      return call('renameConstraint', [o.table, o.name, o.to], indent);
    case 'setComment':
      return o.on.column === undefined
        ? call('setTableComment', [o.on.table, o.comment], indent)
        : call('setColumnComment', [o.on.table, o.on.column, o.comment], indent);
    case 'createFunction':
      return call('createFunction', [only(o, 'name', 'args', 'returns', 'language', 'body', 'replace')], indent);
    case 'dropFunction':
      return call('dropFunction', [o.name, only(o, 'args', 'ifExists')], indent);
    case 'createTrigger':
      return call('createTrigger', [only(o, 'name', 'table', 'timing', 'events', 'forEach', 'function', 'when')], indent);
    case 'dropTrigger':
      return call('dropTrigger', [o.name, o.table, only(o, 'ifExists')], indent);
    case 'execute':
      return call('execute', [o.sql, only(o, 'reverse', 'transactional')], indent);
  }
}

/** A function body: each planned operation, its notes as comments above it. */
export function renderBody(ops: readonly PlannedOp[], indent = '    '): string {
  return ops.map((p) => [...p.notes.map((n) => `${indent}// ${n}`), `${indent}${renderCall(p.op, indent)}`].join('\n')).join('\n');
}
