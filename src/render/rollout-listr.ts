/**
 * The rollout live on a terminal with listr2: one line per phase (canary 1, batch 1, ...) with a line per host
 * below it showing its current step, settling as ok / changed / rolled back / needs a person. Verifications,
 * rollbacks and the outcome are printed after the live view as the plain renderer words them. listr2 is imported
 * only here, and only on a TTY.
 */
import type { RollgateEvent, RolloutHostStatus } from '../events/events.js';
import { formatRolloutEvent } from './rollout-plain.js';
import { terminalSafe } from './terminal-text.js';
import type { LiveRenderer } from './listr.js';

interface Settle<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}
function settle<T>(): Settle<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type Batch = { phase: 'canary' | 'batch'; index: number; hosts: string[] };
const GOOD = new Set<RolloutHostStatus>(['ok', 'changed']);

export function rolloutListrRenderer(
  write: (text: string) => void = (t) => void process.stderr.write(t),
): LiveRenderer {
  const hostTitle = new Map<string, (text: string) => void>();
  const hostDone = new Map<string, Settle<{ status: RolloutHostStatus; message: string } | null>>();
  const batchDone = new Map<string, Settle<boolean>>();
  const after: string[] = [];
  let running: Promise<void> = Promise.resolve();
  const key = (b: { phase: string; index: number }) => `${b.phase} ${b.index}`;

  const start = async (batches: Batch[]) => {
    const { Listr } = await import('listr2');
    for (const b of batches) {
      batchDone.set(key(b), settle());
      for (const h of b.hosts) hostDone.set(h, settle());
    }
    const hostTask = (name: string) => ({
      title: name,
      task: async (_ctx: unknown, task: { title: string; skip(m?: string): void }) => {
        hostTitle.set(name, (text) => (task.title = `${name}  ${text}`));
        const end = await hostDone.get(name)!.promise;
        if (!end) return task.skip(`${name}  untouched`);
        task.title = `${name}  ${end.status.replace('_', ' ')}: ${end.message}`;
        if (!GOOD.has(end.status)) throw new Error(`${name}: ${end.status}`);
      },
    });
    const tasks = batches.map((b) => ({
      title: `${b.phase} ${b.index}: ${b.hosts.join(', ')}`,
      task: async (_ctx: unknown, task: { skip(m?: string): void; newListr(t: unknown[], o: object): unknown }) => {
        if (!(await batchDone.get(key(b))!.promise))
          return task.skip(`${b.phase} ${b.index}: not started (${b.hosts.join(', ')} untouched)`);
        return task.newListr(b.hosts.map(hostTask), { concurrent: true, exitOnError: false });
      },
    }));
    await new Listr(tasks as never, {
      exitOnError: false,
      rendererOptions: { collapseErrors: false, collapseSkips: false },
    })
      .run()
      .catch(() => undefined);
  };
  const untouched = (hosts: string[]) => hosts.forEach((h) => hostDone.get(h)?.resolve(null));

  return {
    listener(raw: RollgateEvent) {
      const e = terminalSafe(raw); // host names, steps and messages become listr2 titles
      switch (e.type) {
        case 'rollout.warning':
          // Emitted while planning, before the view starts: printed at once, where the operator sees it first.
          for (const line of formatRolloutEvent(e)) write(`${line}\n`);
          return;
        case 'rollout.started':
          running = start(e.batches);
          after.push(...formatRolloutEvent(e));
          return;
        case 'rollout.batch_started':
          batchDone.get(key(e))?.resolve(true);
          return;
        case 'rollout.host_step':
          hostTitle.get(e.host)?.(`${e.step}${e.status === 'started' ? ' ...' : `: ${e.status}`}`);
          return;
        case 'task.result':
          hostTitle.get(e.host)?.(`task "${e.task}": ${e.status}`);
          return;
        case 'rollout.host_finished':
          hostDone.get(e.host)?.resolve({ status: e.status, message: e.message });
          return;
        case 'rollout.stopped':
          for (const s of batchDone.values()) s.resolve(false); // no-op for batches already started
          untouched(e.untouched);
          after.push(...formatRolloutEvent(e));
          return;
        case 'rollout.finished':
          for (const s of batchDone.values()) s.resolve(false);
          untouched([...hostDone.keys()]);
          after.push(...formatRolloutEvent(e));
          return;
        case 'rollout.verification':
        case 'rollout.rollback':
        case 'rollout.needs_person':
        case 'rollout.paused':
          after.push(...formatRolloutEvent(e));
          return;
        default:
          return;
      }
    },
    async done() {
      await running;
      for (const line of after) write(`${line}\n`);
    },
  };
}
