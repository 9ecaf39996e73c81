#!/usr/bin/env node
// Time to detect a failed host and time to roll it back, from the journal of real rollouts (the lab e2e runs
// write theirs to .local-fleet/e2e-rollout/journal.db; `npm run demo` to .local-fleet/demo/journal.db).
//
//   node bench/rollback-times.mjs [JOURNAL] [--json]
//
// For every host of every rollout run that did not simply verify: the trial reboot's request, the moment the
// engine knew the change did not stand (verification failed, the host came back on its known-good entry, or the
// boot timeout ran out and a power reset was sent), and the end of its turn (rolled back and verified, or verified
// after the reset). Figures come from the events' own timestamps, written as they happened.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const path = args.find((a) => !a.startsWith('--')) ?? '.local-fleet/e2e-rollout/journal.db';
if (!existsSync(path)) {
  console.error(`no journal at ${path}: run the lab e2e (npm run test:e2e) or pass a journal`);
  process.exit(2);
}
const db = new Database(path, { readonly: true });
const runs = db.prepare("SELECT id FROM runs WHERE kind = 'rollout' ORDER BY started_at").all();
const rows = [];
for (const { id } of runs) {
  const events = db
    .prepare('SELECT host, type, at, data FROM events WHERE run_id = ? AND host IS NOT NULL ORDER BY id')
    .all(id)
    .map((e) => ({ ...e, data: JSON.parse(e.data) }));
  for (const host of [...new Set(events.map((e) => e.host))]) {
    const mine = events.filter((e) => e.host === host);
    const trial = mine.find(
      (e) => e.type === 'rollout.host_step' && e.data.step.startsWith('reboot (') && e.data.status === 'started',
    );
    const end = mine.find((e) => e.type === 'rollout.host_finished');
    if (!trial || !end) continue;
    const detected =
      mine.find(
        (e) => e.at >= trial.at && e.type === 'rollout.verification' && e.data.against === 'candidate' && !e.data.ok,
      ) ??
      mine.find(
        (e) =>
          e.at >= trial.at &&
          e.type === 'rollout.host_step' &&
          e.data.step === 'trial boot' &&
          e.data.status === 'failed',
      ) ??
      mine.find((e) => e.at >= trial.at && e.type === 'rollout.rollback' && e.data.action === 'power_reset');
    if (!detected) continue;
    const how =
      detected.type === 'rollout.verification'
        ? 'verification failed'
        : detected.type === 'rollout.rollback'
          ? 'boot timeout, power reset'
          : 'back on the known-good entry';
    rows.push({
      run: id,
      host,
      outcome: end.data.status,
      how,
      detectS: (detected.at - trial.at) / 1000,
      recoverS: (end.at - detected.at) / 1000,
      totalS: (end.at - trial.at) / 1000,
    });
  }
}
db.close();
if (json) {
  console.log(JSON.stringify(rows, null, 2));
} else if (rows.length === 0) {
  console.log(`no failed or reset host in the rollouts of ${path}`);
} else {
  const head = ['run', 'host', 'detected by', 'trial reboot -> detected', 'detected -> done', 'outcome'];
  const lines = rows.map((r) => [
    r.run,
    r.host,
    r.how,
    `${r.detectS.toFixed(0)} s`,
    `${r.recoverS.toFixed(0)} s`,
    r.outcome,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  for (const l of [head, ...lines]) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  '));
}
