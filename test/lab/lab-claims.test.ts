import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabSettings } from '../../src/lab/settings.js';
import {
  BudgetSpent,
  SETTLE_MS,
  TOP_SETTLE_MS,
  budgetNote,
  claimHosts,
  claimSize,
  claimsLog,
  inServiceOrder,
  pickHosts,
  pickInTurn,
  setAside,
  settling,
} from '../e2e/lab-claims.js';

const lab = (dirty: string[] = [], only?: string[]) =>
  ['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6']
    .map((name, index) => ({ name, index, iommu: (index % 2 === 0 ? 'intel' : 'amd') as 'intel' | 'amd', dirty: dirty.includes(name), restorable: index % 2 === 0 }))
    .filter((h) => !only || only.includes(h.name));

describe('handing lab hosts to e2e scenarios', () => {
  it('gives the requested kinds, clean hosts first, in lab order', () => {
    expect(pickHosts(lab(['lab1']), { intel: 2, label: 't' })).toEqual(['lab3', 'lab5']);
    expect(pickHosts(lab(), { intel: 1, amd: 1, any: 1, label: 't' })).toEqual(['lab1', 'lab2', 'lab3']);
  });

  it('takes dirty hosts when not enough clean ones are free (the claim restores them)', () => {
    expect(pickHosts(lab(['lab1', 'lab3', 'lab5']), { intel: 3, label: 't' })).toEqual(['lab1', 'lab3', 'lab5']);
  });

  it('prefers a dirty host that restores in seconds over one that needs a cold boot', () => {
    expect(pickHosts(lab(['lab1', 'lab2', 'lab3', 'lab4', 'lab5']), { any: 2, label: 't' })).toEqual(['lab1', 'lab6']);
    expect(pickHosts(lab(['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6']), { any: 1, label: 't' })).toEqual(['lab1']);
  });

  it('waits (undefined) rather than give fewer hosts than asked', () => {
    expect(pickHosts(lab([], ['lab1', 'lab2']), { intel: 2, label: 't' })).toBeUndefined();
    expect(pickHosts(lab([], ['lab1', 'lab2']), { any: 3, label: 't' })).toBeUndefined();
  });

  it('gives sameKind hosts of one kind, from the kind with more clean hosts free', () => {
    expect(pickHosts(lab(['lab1']), { sameKind: 2, label: 't' })).toEqual(['lab2', 'lab4']);
    expect(pickHosts(lab([], ['lab1', 'lab2', 'lab3']), { sameKind: 2, label: 't' })).toEqual(['lab1', 'lab3']);
    expect(pickHosts(lab([], ['lab1', 'lab2']), { sameKind: 2, label: 't' })).toBeUndefined();
  });

  it('serves requests in turn: a waiting request for three Intel hosts is not starved by later one-host ones', () => {
    const big = { intel: 3, label: 'rollout-main' };
    const small = { any: 1, label: 'one host' };
    // lab1 is busy: the big request cannot be served; the Intel hosts that come free are kept for it.
    const free = lab([], ['lab2', 'lab3', 'lab4', 'lab5', 'lab6']);
    expect(pickInTurn(free, [big, small], 0)).toBeUndefined();
    expect(pickInTurn(free, [big, small], 1)).toEqual(['lab2']);
    const intelOnly = { intel: 1, label: 'intel one' };
    expect(pickInTurn(free, [big, intelOnly], 1)).toBeUndefined();
    // Once lab1 is free too, the big request gets all three and a later one what is left.
    const all = lab();
    expect(pickInTurn(all, [big, small], 0)).toEqual(['lab1', 'lab3', 'lab5']);
    expect(pickInTurn(all, [big, small], 1)).toEqual(['lab2']);
  });

  it('serves a `last` request (a scenario with VMs of its own) only when no other request waits', () => {
    const own = { any: 1, readOnly: true, last: true, priority: -1, label: 'systemd-boot' };
    const other = { intel: 3, label: 'rollout-main' };
    const free = lab();
    // Another request waits (even one that cannot be served now): the `last` one keeps waiting, taking nothing.
    expect(pickInTurn(lab([], ['lab2']), inServiceOrder([{ file: '2', req: own }, { file: '1', req: other }]).map((t) => t.req), 1)).toBeUndefined();
    expect(pickInTurn(free, [other, own], 1)).toBeUndefined();
    expect(pickInTurn(free, [other, own], 0)).toEqual(['lab1', 'lab3', 'lab5']);
    // Alone in the queue: served.
    expect(pickInTurn(free, [own], 0)).toEqual(['lab1']);
  });

  it('a waiting request keeps only the free hosts it will need; the rest of the lab keeps working', () => {
    // Three AMD hosts wanted, two free: both kept; the free Intel host goes to the next request.
    const free = lab([], ['lab1', 'lab2', 'lab4']);
    expect(pickInTurn(free, [{ amd: 3, label: 'a' }, { any: 1, label: 'b' }], 1)).toEqual(['lab1']);
    expect(pickInTurn(free, [{ amd: 3, label: 'a' }, { amd: 1, label: 'b' }], 1)).toBeUndefined();
    // sameKind keeps hosts of the kind with more free ones.
    expect(setAside(free, { sameKind: 3, label: 'a' }).sort()).toEqual(['lab2', 'lab4']);
    expect(pickInTurn(free, [{ sameKind: 3, label: 'a' }, { intel: 1, label: 'b' }], 1)).toEqual(['lab1']);
    // An earlier request that can be served takes its hosts first.
    expect(pickInTurn(lab(), [{ intel: 1, label: 'a' }, { intel: 1, label: 'b' }], 1)).toEqual(['lab3']);
  });
});

describe('the e2e budget (ROLLGATE_E2E_END set by .ci/run, or ROLLGATE_E2E_DEADLINE)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rg-claims-budget-'));
  const settings = { stateDir } as LabSettings;
  const saved = { deadline: process.env.ROLLGATE_E2E_DEADLINE, end: process.env.ROLLGATE_E2E_END };
  const restore = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  afterAll(() => {
    restore('ROLLGATE_E2E_DEADLINE', saved.deadline);
    restore('ROLLGATE_E2E_END', saved.end);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('under ROLLGATE_E2E_END, lets a scenario start only if its estimate ends before it', () => {
    delete process.env.ROLLGATE_E2E_DEADLINE;
    process.env.ROLLGATE_E2E_END = String(Math.floor(Date.now() / 1000) + 10 * 60);
    expect(budgetNote('short one', 5)).toBeUndefined();
    expect(budgetNote('long one', 25)).toMatch(
      /^long one: NOT RUN: it takes about 25 min and the e2e budget of this run ends at \d\d:\d\d UTC \(ROLLGATE_E2E_END\)$/,
    );
    expect(budgetNote('no estimate')).toMatch(/about 20 min/); // the default
    delete process.env.ROLLGATE_E2E_END;
    expect(budgetNote('local run', 500)).toBeUndefined();
  });

  it('refuses a claim made after the deadline, leaving no ticket behind', async () => {
    process.env.ROLLGATE_E2E_DEADLINE = String(Math.floor(Date.now() / 1000) - 1);
    await expect(claimHosts(settings, { any: 1, label: 'late scenario' })).rejects.toBeInstanceOf(BudgetSpent);
    await expect(claimHosts(settings, { any: 1, label: 'late scenario' })).rejects.toThrow(
      'late scenario: NOT RUN: the e2e budget of this run (ROLLGATE_E2E_DEADLINE) was spent',
    );
    expect(readdirSync(join(stateDir, 'claims-queue'))).toEqual([]);
  });

  it('hands the note to the skip of the test when it has one (this case ends skipped, as a late scenario would)', async (t) => {
    process.env.ROLLGATE_E2E_DEADLINE = String(Math.floor(Date.now() / 1000) - 1);
    let note = '';
    await claimHosts(settings, {
      any: 1,
      label: 'late scenario',
      skip: (n) => {
        note = n;
        t.skip(n);
      },
    });
    expect.unreachable(`skip was not called (${note})`);
  });
});

describe('the order requests are served in', () => {
  it('puts the rollback paths (higher priority) first, then the oldest ticket first', () => {
    const q = [
      { file: '001-a', req: { any: 1, label: 'lab self-test' } },
      { file: '002-b', req: { sameKind: 2, label: 'verification failure', priority: 2 } },
      { file: '003-c', req: { intel: 3, label: 'rollout-main', priority: 1 } },
      { file: '004-d', req: { any: 1, label: 'kill -9', priority: 2 } },
    ];
    expect(inServiceOrder(q).map((t) => t.req.label)).toEqual([
      'verification failure',
      'kill -9',
      'rollout-main',
      'lab self-test',
    ]);
  });

  it('within a priority, serves a request for more hosts before older requests for fewer', () => {
    const q = [
      { file: '001-a', req: { any: 1, label: 'kill -9', priority: 2 } },
      { file: '002-b', req: { sameKind: 2, label: 'bad kernel', priority: 2 } },
      { file: '003-c', req: { sameKind: 3, label: 'link-down', priority: 2 } },
      { file: '004-d', req: { intel: 1, label: 'hung reboot', priority: 2 } },
      { file: '005-e', req: { intel: 3, label: 'rollout-main', priority: 1 } },
    ];
    expect(inServiceOrder(q).map((t) => t.req.label)).toEqual([
      'link-down',
      'bad kernel',
      'kill -9',
      'hung reboot',
      'rollout-main',
    ]);
    expect(claimSize({ intel: 1, amd: 1, any: 1, sameKind: 2, label: 't' })).toBe(5);
  });

  it('stamps its log lines with the time and, in a budgeted run, the minutes left', () => {
    const at = Date.parse('2026-12-07T04:30:00Z');
    const before = process.env.ROLLGATE_E2E_END;
    try {
      delete process.env.ROLLGATE_E2E_END;
      expect(claimsLog('claims', 'x: got lab1', at)).toBe('[lab claims 04:30:00] x: got lab1');
      process.env.ROLLGATE_E2E_END = String(at / 1000 + 90);
      expect(claimsLog('budget', 'y', at)).toBe('[lab budget 04:30:00, 1.5 min of budget left] y');
    } finally {
      if (before === undefined) delete process.env.ROLLGATE_E2E_END;
      else process.env.ROLLGATE_E2E_END = before;
    }
  });
});

describe('the settling window after the lab comes up', () => {
  it('holds requests below the rollback paths for a minute, and the rollback paths for 20 s so that all of them are queued and the biggest goes first', () => {
    const opened = 1_000_000;
    expect(settling({ priority: 1 }, opened, opened + 5_000)).toBe(true);
    expect(settling({}, opened, opened + SETTLE_MS - 1)).toBe(true);
    expect(settling({ priority: 2 }, opened, opened + 5_000)).toBe(true);
    expect(settling({ priority: 2 }, opened, opened + TOP_SETTLE_MS)).toBe(false);
    expect(settling({ priority: 1 }, opened, opened + TOP_SETTLE_MS)).toBe(true);
    expect(settling({ priority: 2 }, undefined, opened)).toBe(false);
    expect(settling({ priority: 1 }, opened, opened + SETTLE_MS)).toBe(false);
    // No opening time known (a lab up before this run, a run without the harness): nothing waits.
    expect(settling({ priority: 0 }, undefined, opened)).toBe(false);
  });
});
