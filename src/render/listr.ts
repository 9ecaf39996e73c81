/**
 * Live progress on a terminal with listr2: one line per host that turns into ok, failed or unreachable (with
 * the kind) as events arrive. When the run is over, each host's output block and the summary are printed
 * as the plain renderer formats them. listr2 is imported only here, and only on a TTY, to keep startup fast.
 */
import type { RollgateEvent } from '../events/events.js';
import { formatHostBlock, formatSummary } from './plain.js';
import { terminalSafe } from './terminal-text.js';

type Output = Extract<RollgateEvent, { type: 'command.output' }>;
type Finished = Extract<RollgateEvent, { type: 'host.finished' }>;

export interface LiveRenderer {
  listener: (event: RollgateEvent) => void;
  /** Resolves when the progress display has finished drawing and the blocks are printed. */
  done(): Promise<void>;
}

interface HostTask {
  title?: (text: string) => void;
  settle?: (finished: Finished) => void;
  finished?: Finished;
}

export function listrRenderer(write: (text: string) => void = (t) => void process.stdout.write(t)): LiveRenderer {
  const hosts = new Map<string, HostTask>();
  const outputs = new Map<string, Output>();
  const blocks: Finished[] = [];
  let summary: Extract<RollgateEvent, { type: 'fleet.finished' }> | undefined;
  let running: Promise<void> = Promise.resolve();

  const start = async (names: string[]) => {
    const { Listr } = await import('listr2');
    const tasks = names.map((name) => {
      const state: HostTask = hosts.get(name) ?? {};
      hosts.set(name, state);
      return {
        title: name,
        task: (_ctx: unknown, task: { title: string }) =>
          new Promise<void>((resolve, reject) => {
            state.title = (text) => (task.title = `${name}  ${text}`);
            state.settle = (f) => {
              const what = f.kind && f.kind !== 'command' ? `${f.status} (${f.kind})` : f.status;
              task.title = `${name}  ${what}  ${f.ms} ms`;
              if (f.status === 'ok') resolve();
              else reject(new Error(`${name}: ${what}`));
            };
            if (state.finished) state.settle(state.finished);
          }),
      };
    });
    const list = new Listr(tasks, { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: true } });
    await list.run().catch(() => undefined);
  };

  return {
    listener(raw) {
      const event = terminalSafe(raw); // host names and output become listr2 titles and blocks
      switch (event.type) {
        case 'fleet.started':
          running = start(event.hosts);
          break;
        case 'host.connected':
          hosts.get(event.host)?.title?.('running');
          break;
        case 'command.output':
          outputs.set(event.host, event);
          break;
        case 'host.finished': {
          const state = hosts.get(event.host) ?? {};
          hosts.set(event.host, state);
          state.finished = event;
          state.settle?.(event);
          blocks.push(event);
          break;
        }
        case 'fleet.finished':
          summary = event;
          break;
        default:
          break;
      }
    },
    async done() {
      await running;
      for (const f of blocks) write(formatHostBlock(f, outputs.get(f.host)));
      if (summary) write(formatSummary(summary));
    },
  };
}
