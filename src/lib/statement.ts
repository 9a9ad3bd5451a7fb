/**
 * One SQL statement for D1 as plain data: what a store builds, what the guard
 * records for D1 to learn later (it must survive JSON in the guard's own
 * table), and what a route hands to `db.batch`.
 */
export type SqlValue = string | number | null;

export interface Statement {
  sql: string;
  params: SqlValue[];
}

export function prepare(db: D1Database, statement: Statement): D1PreparedStatement {
  return db.prepare(statement.sql).bind(...statement.params);
}
