/**
 * Where the journal's rows live, behind one small synchronous interface: SQLite (sqlite-store.ts, the embedded
 * default) or PostgreSQL (pg-store.ts, several controllers sharing one journal). SQL is written once with `?`
 * placeholders in the SQL both accept; PostgreSQL gets them as $1, $2 ... (toNumbered). Every query stays in
 * src/journal/; callers use the Journal's methods.
 */

/** A value bound to a `?`. */
export type SqlValue = string | number | null;

/** One result row, keyed by column name (PostgreSQL's BIGINT arrives as a string: read rows with Number()). */
export type Row = Record<string, unknown>;

export interface JournalStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where it is, for messages: the file's path, or the connection URL without its password. */
  readonly where: string;
  /** One statement that returns no rows. */
  run(sql: string, ...params: SqlValue[]): void;
  /** The first row of a query (or of an `INSERT ... RETURNING`), if any. */
  get(sql: string, ...params: SqlValue[]): Row | undefined;
  all(sql: string, ...params: SqlValue[]): Row[];
  /** Several statements without parameters (migrations). */
  exec(sql: string): void;
  /**
   * `fn` in one transaction that serializes with every other writer of the journal, of any process (SQLite:
   * BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), committed when `fn` returns and rolled
   * back when it throws. A transaction inside a transaction joins the outer one.
   */
  transaction<T>(fn: () => T): T;
  /** The schema version the migrations reached (0: none). */
  schemaVersion(): number;
  setSchemaVersion(version: number): void;
  readonly isOpen: boolean;
  close(): void;
}

/** `?` placeholders as PostgreSQL's $1, $2 ... (a `?` inside a quoted string or identifier is left alone). */
export function toNumbered(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}
