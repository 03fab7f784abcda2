/**
 * Identifier and literal quoting by PostgreSQL's rules: a name goes unquoted
 * only when it would come back unchanged (lower case, no specials) and is not
 * a keyword the grammar reserves in some position. Keywords are PostgreSQL
 * 18's, a superset of 15's, so SQL rendered here runs on both; anything
 * listed as reserved, type/function-name or column-name (everything
 * `pg_get_keywords()` does not mark unreserved) is quoted.
 */
export const QUOTED_KEYWORDS: ReadonlySet<string> = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case ' +
    'cast char character check coalesce collate collation column concurrently constraint create cross ' +
    'current_catalog current_date current_role current_schema current_time current_timestamp current_user dec ' +
    'decimal default deferrable desc distinct do else end except exists extract false fetch float for foreign ' +
    'freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect ' +
    'interval into is isnull join json json_array json_arrayagg json_exists json_object json_objectagg json_query ' +
    'json_scalar json_serialize json_table json_value lateral leading least left like limit localtime ' +
    'localtimestamp merge_action national natural nchar none normalize not notnull null nullif numeric offset on ' +
    'only or order out outer overlaps overlay placing position precision primary real references returning right ' +
    'row select session_user setof similar smallint some substring symmetric system_user table tablesample then ' +
    'time timestamp to trailing treat trim true union unique user using values varchar variadic verbose when where ' +
    'window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot ' +
    'xmlserialize xmltable'
  ).split(' '),
);

const PLAIN = /^[a-z_][a-z0-9_$]*$/;

export function ident(name: string): string {
  return PLAIN.test(name) && !QUOTED_KEYWORDS.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * `schema.table` or `table`, each part quoted as needed. A dot always
 * separates parts: a name that itself contains a dot cannot be written here.
 */
export function qualified(name: string): string {
  return name.split('.').map(ident).join('.');
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A dollar-quoted body whose tag cannot occur inside it. */
export function dollarQuoted(body: string): string {
  let tag = '$$';
  for (let i = 0; body.includes(tag); i++) tag = `$body${i || ''}$`;
  return `${tag}${body}${tag}`;
}
