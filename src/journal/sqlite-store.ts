/**
 * The journal's store in one SQLite file (better-sqlite3): prepared statements cached by their text, transactions
 * BEGIN IMMEDIATE (so two controllers sharing the file serialize on its write lock), the schema version in
 * `PRAGMA user_version`.
 */
import type Database from 'better-sqlite3';
import type { JournalStore, Row, SqlValue } from './store.js';

export class SqliteStore implements JournalStore {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly db: Database.Database,
    readonly where: string,
  ) {}

  private prepare(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  run(sql: string, ...params: SqlValue[]): void {
    this.prepare(sql).run(...params);
  }

  get(sql: string, ...params: SqlValue[]): Row | undefined {
    return this.prepare(sql).get(...params) as Row | undefined;
  }

  all(sql: string, ...params: SqlValue[]): Row[] {
    return this.prepare(sql).all(...params) as Row[];
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  setSchemaVersion(version: number): void {
    this.db.pragma(`user_version = ${Math.trunc(version)}`);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
