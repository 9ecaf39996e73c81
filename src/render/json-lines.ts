/**
 * Machine-readable output, one JSON object per line. `results` mode (rollgate exec --json) writes one line per
 * host as it finishes and a summary line last; `events` mode writes every event as it is. Events carry no
 * secrets, so neither does this.
 *
 *   {"type":"host","host":"h01","status":"ok","exitCode":0,"stdout":"5.10.0\n","stderr":"","ms":41}
 *   {"type":"host","host":"h02","status":"unreachable","kind":"host_key","message":"h02: HOST KEY CHANGED ...","ms":12}
 *   {"type":"summary","ok":1,"failed":0,"unreachable":1,"ms":130}
 */
import type { RollgateEvent } from '../events/events.js';

type Output = Extract<RollgateEvent, { type: 'command.output' }>;

/** One host's line in results mode. */
export interface HostResultLine {
  type: 'host';
  host: string;
  status: 'ok' | 'failed' | 'unreachable';
  kind?: string;
  message?: string;
  exitCode?: number | null;
  signal?: string;
  stdout?: string;
  stderr?: string;
  ms: number;
}

export interface SummaryLine {
  type: 'summary';
  ok: number;
  failed: number;
  unreachable: number;
  ms: number;
}

export function jsonLinesRenderer(
  mode: 'results' | 'events',
  write: (text: string) => void = (t) => void process.stdout.write(t),
): (event: RollgateEvent) => void {
  const outputs = new Map<string, Output>();
  const line = (value: unknown) => write(`${JSON.stringify(value)}\n`);
  return (event) => {
    if (mode === 'events') return line(event);
    if (event.type === 'command.output') outputs.set(event.host, event);
    else if (event.type === 'host.finished') {
      const out = outputs.get(event.host);
      outputs.delete(event.host);
      const result: Omit<HostResultLine, 'ms'> = { type: 'host', host: event.host, status: event.status };
      if (event.kind) result.kind = event.kind;
      if (event.message) result.message = event.message;
      if (out) {
        result.exitCode = out.exitCode;
        if (out.signal) result.signal = out.signal;
        result.stdout = out.stdout;
        result.stderr = out.stderr;
      }
      line({ ...result, ms: event.ms } satisfies HostResultLine);
    } else if (event.type === 'fleet.finished') {
      const summary: SummaryLine = {
        type: 'summary',
        ok: event.ok,
        failed: event.failed,
        unreachable: event.unreachable,
        ms: event.ms,
      };
      line(summary);
    }
  };
}
