/**
 * `rollgate run --json`: one JSON object per line for each run, play and task event (connection-level events
 * are left out). Events carry no secrets and no no_log output.
 *
 *   {"type":"task.result","at":1736847012000,"host":"hv01","task":"kernel args","module":"kernel_args","status":"changed",...}
 */
import type { RollgateEvent } from '../events/events.js';

const shown = new Set<RollgateEvent['type']>([
  'run.started',
  'play.started',
  'task.started',
  'task.result',
  'play.recap',
  'run.finished',
]);

export function runJsonRenderer(
  write: (text: string) => void = (t) => void process.stdout.write(t),
): (event: RollgateEvent) => void {
  return (event) => {
    if (shown.has(event.type)) write(`${JSON.stringify(event)}\n`);
  };
}
