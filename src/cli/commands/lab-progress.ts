/**
 * listr2 view of `lab up`: one task for the image (build stages as output), one per VM (starting, booting,
 * ready with its boot time). The lab code only emits LabProgress values; this file turns them into tasks.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { LabProgress } from '../../lab/lab.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  task?: ListrTaskWrapper<unknown, never, never>;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export interface UpProgressView {
  onProgress: (p: LabProgress) => void;
  /** Run the view alongside `work`; settles every task when work ends. */
  run<T>(work: Promise<T>): Promise<T>;
}

export function upProgressView(hosts: string[]): UpProgressView {
  const image = deferred();
  const vms = new Map(hosts.map((h) => [h, deferred()]));
  const onProgress = (p: LabProgress) => {
    if (p.type === 'image') {
      if (image.task) image.task.output = p.line;
      return;
    }
    image.resolve(); // VMs start only once the image exists
    const d = vms.get(p.host);
    if (!d) return;
    if (p.type === 'guests') {
      if (d.task) d.task.output = p.line;
      return;
    }
    if (d.task) d.task.title = `${p.host}: ${p.phase}${p.detail ? ` (${p.detail})` : ''}`;
    if (p.phase === 'ready') d.resolve();
  };
  const list = new Listr(
    [
      {
        title: 'Guest image (built once per recipe, then cached)',
        task: async (_ctx, task) => {
          image.task = task as never;
          await image.promise;
        },
        rendererOptions: { persistentOutput: false },
      },
      {
        title: 'VMs',
        task: (_ctx, task) =>
          task.newListr(
            hosts.map((h) => ({
              title: `${h}: waiting`,
              task: async (_c: unknown, t: ListrTaskWrapper<unknown, never, never>) => {
                vms.get(h)!.task = t;
                await vms.get(h)!.promise;
              },
            })) as never,
            { concurrent: true, exitOnError: false },
          ),
      },
    ],
    { exitOnError: true, rendererOptions: { collapseSubtasks: false } },
  );
  return {
    onProgress,
    async run<T>(work: Promise<T>): Promise<T> {
      const shown = list.run().catch(() => undefined);
      try {
        const result = await work;
        image.resolve();
        for (const d of vms.values()) d.resolve();
        await shown;
        return result;
      } catch (err) {
        // eslint-disable-next-line no-restricted-syntax -- a thrown non-Error, wrapped for listr2 to show; not input
        const e = err instanceof Error ? err : new Error(String(err));
        image.reject(e);
        for (const d of vms.values()) d.reject(e);
        await shown;
        throw e;
      }
    },
  };
}
