/**
 * What a journal in PostgreSQL runs again after its connection broke (pg-store.ts `rerunnable`), and the guard
 * that keeps that safe: every UPDATE the journal writes sets absolute values, so running it twice is running it
 * once; and how the CLI ends a command whose database was lost (exit 8, no stack). The real outages are in
 * test/integration/journal-postgres-outage.test.ts and journal-postgres.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rerunnable } from '../../src/journal/pg-store.js';
import {
  DatabaseLostError,
  isConnectionLoss,
  reconnectDelay,
  RECONNECT_BOUND_MS,
} from '../../src/journal/database-lost.js';
import { LEASE_TTL_MS, LEASE_RENEW_MS } from '../../src/journal/run-lease.js';
import { main } from '../../src/cli/main.js';

const JOURNAL_SRC = join(import.meta.dirname, '..', '..', 'src', 'journal');

describe('what the PostgreSQL journal runs again after a lost connection', () => {
  it('runs reads, UPDATEs, DELETEs and upserts again, never a plain INSERT', () => {
    expect(rerunnable('SELECT * FROM runs WHERE id = ?')).toBe(true);
    expect(rerunnable('  UPDATE steps SET status = ? WHERE id = ?')).toBe(true);
    expect(rerunnable('DELETE FROM run_leases WHERE run_id = ? AND token = ?')).toBe(true);
    expect(
      rerunnable('INSERT INTO run_hosts (run_id, host) VALUES (?, ?)\n ON CONFLICT (run_id, host) DO UPDATE SET x = 1'),
    ).toBe(true);
    expect(rerunnable('INSERT INTO steps (run_id) VALUES (?) RETURNING id')).toBe(false);
    expect(rerunnable('INSERT INTO events (run_id) VALUES (?)')).toBe(false);
    expect(rerunnable('CREATE TABLE x (a INT)')).toBe(false);
  });

  it('finds every UPDATE in src/journal/ setting absolute values (a column from itself would be counted twice when run again)', () => {
    const updates: string[] = [];
    for (const file of readdirSync(JOURNAL_SRC).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(JOURNAL_SRC, file), 'utf8');
      for (const m of text.matchAll(/UPDATE\s+(\w+)\s+SET\s+([\s\S]*?)\s+WHERE\b/g)) updates.push(`${file}: ${m[0]}`);
      for (const m of text.matchAll(/DO UPDATE SET\s+([\s\S]*?)(?:\s+WHERE\b|['`])/g)) updates.push(`${file}: ${m[0]}`);
    }
    expect(updates.length).toBeGreaterThan(10);
    for (const u of updates) {
      const sets = /SET\s+([\s\S]*?)(?:\s+WHERE\b|['`]|$)/.exec(u)![1]!;
      for (const assignment of sets.split(',')) {
        const [, value] = assignment.split('=').map((s) => s.trim());
        // `?`, a literal, or the row the upsert would have inserted (excluded.col / EXCLUDED.col).
        expect(value, u).toMatch(/^(\?|\d+|'[^']*'|NULL|(excluded|EXCLUDED)\.\w+)$/);
      }
    }
  });

  it('waits with backoff, well inside a run lease', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(reconnectDelay)).toEqual([0, 100, 200, 400, 800, 1600, 2000, 2000]);
    // A controller blocked in the synchronous journal cannot renew its lease: the last beat, the wait and one
    // more connect attempt (connect_timeout 10 s) fit before the lease lapses.
    expect(LEASE_RENEW_MS + RECONNECT_BOUND_MS + 10_000).toBeLessThan(LEASE_TTL_MS);
  });

  it("tells node-postgres's lost connections from SQL errors", () => {
    expect(isConnectionLoss(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isConnectionLoss(Object.assign(new Error('syntax'), { code: '42601' }))).toBe(false);
  });
});

describe('a command whose database was lost', () => {
  it('ends with exit 8, the message and what to do next, no stack', async () => {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((t) => ((err += String(t)), true));
    try {
      const code = await main(['node', 'rollgate', 'probe'], async (program) => {
        program.command('probe').action(() => {
          throw new DatabaseLostError(
            'journal',
            'postgres://rollgate@db/j',
            'cannot be reached (refused; tried again for 20 s)',
          );
        });
      });
      expect(code).toBe(8);
    } finally {
      vi.restoreAllMocks();
    }
    expect(err).toContain(
      'rollgate: the journal postgres://rollgate@db/j cannot be reached (refused; tried again for 20 s)\n',
    );
    expect(err).toContain('the command stopped before its next change');
    expect(err).toContain('`rollgate runs` shows where each run stopped');
    expect(err).not.toMatch(/^\s+at /m);
  });
});
