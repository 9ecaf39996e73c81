/**
 * `snapshot`: take the passthrough health snapshot of the host (one collection command), judge it, journal it,
 * and register it with its findings. Like Ansible's setup module it also sets the host variables `snapshot`
 * and `findings` for later tasks. With `dest`, writes DEST/HOST.json on the controller (not in check mode).
 * Read-only on the host, so it runs in check mode too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineControllerModule, type ArgsOf } from '../define-module.js';
import { PROFILE_SECONDS, takeTaskSnapshot } from '../facts/task-snapshot.js';
import { snapshotFileName } from '../facts/snapshot-file.js';

/** The options, as the schema below describes them. */
export type SnapshotArgs = ArgsOf<typeof snapshot.options>;

export const snapshot = defineControllerModule({
  name: 'snapshot',
  description: 'Gather the passthrough health snapshot (facts and findings) and register it.',
  changesHost: false,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      profile: {
        type: 'boolean',
        default: false,
        description: 'also gather performance evidence (softirq, vhost placement, perf samples)',
      },
      dest: { type: 'string', description: 'directory on the controller to write HOST.json into' },
    },
  },
  kind: 'controller',
  expressionOptions: [],
  async run(ctx, args) {
    const { snapshot: snap, report } = await takeTaskSnapshot(ctx, 'snapshot', args.profile ? PROFILE_SECONDS : 0);
    const unknown = countUnknown(snap);
    let written: string | undefined;
    let note = '';
    if (args.dest) {
      const path = join(resolve(args.dest), snapshotFileName(ctx.host));
      if (ctx.checkMode) note = `; check mode: ${path} not written`;
      else {
        mkdirSync(resolve(args.dest), { recursive: true });
        writeFileSync(path, JSON.stringify(snap, null, 2) + '\n');
        written = path;
        note = `; written to ${path}`;
      }
    }
    const msg = `snapshot in ${snap.durationMs} ms, ${unknown} source(s) unknown; ${report.summary}${note}`;
    return {
      status: 'ok',
      msg,
      data: {
        snapshot: snap,
        findings: report.findings,
        errors: report.errors,
        warnings: report.warnings,
        undecided: report.undecided,
        summary: report.summary,
        ...(written ? { path: written } : {}),
      },
      facts: { snapshot: snap, findings: report.findings },
    };
  },
});

/** Facts the host could not give (each says why in the snapshot). */
function countUnknown(value: unknown, depth = 0): number {
  if (depth > 4 || value === null || typeof value !== 'object') return 0;
  const v = value as Record<string, unknown>;
  if (v.status === 'unknown' && typeof v.reason === 'string') return 1;
  if (v.status === 'ok' && 'value' in v) return 0;
  return Object.values(v).reduce<number>((n, x) => n + countUnknown(x, depth + 1), 0);
}
