import { describeObject, inspectOp, type DataLoss } from '../ops/inspect.js';
import { ident, qualified } from '../ops/ident.js';
import type { Op } from '../ops/types.js';
import type { SqlSession } from '../runtime/client.js';
import { sqlDataLoss } from './sql.js';

/**
 * What an operation discards: known from its descriptor, or, for raw SQL,
 * from PostgreSQL's parse of it.
 */
export async function opDataLoss(op: Op, where: string): Promise<DataLoss[]> {
  return op.op === 'execute' ? sqlDataLoss(op.sql, where) : inspectOp(op).dropsData;
}

export interface CountedLoss {
  loss: DataLoss;
  /** Rows (for a table) or non-null values (for a column) it holds now. */
  values: number;
}

/**
 * How much a loss would discard in the database as it is now. A table or
 * column that does not exist yet (an earlier step of the same plan creates
 * it) holds nothing.
 */
export async function countLoss(s: Pick<SqlSession, 'query'>, loss: DataLoss): Promise<CountedLoss> {
  const table = qualified(loss.table);
  const column = loss.kind === 'column' ? loss.column : null;
  const [row] = await s.query<{ present: boolean; has_column: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS present,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped) AS has_column`,
    [table, column ?? ''],
  );
  if (!row?.present || (column !== null && !row.has_column)) return { loss, values: 0 };
  const [n] = await s.query<{ n: string | number }>(`SELECT count(${column === null ? '*' : ident(column)})::bigint AS n FROM ${table}`);
  return { loss, values: Number(n?.n ?? 0) };
}

/** `column candidates.rejection_reason (1 non-null value)`. */
export function describeLoss(c: CountedLoss): string {
  const unit = c.loss.kind === 'table' ? 'row' : 'non-null value';
  return `${describeObject(c.loss)} (${c.values} ${unit}${c.values === 1 ? '' : 's'})`;
}
