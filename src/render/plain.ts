/**
 * The plain renderer: one block per host as it finishes, then a summary line. No colours, no cursor movement,
 * so it suits pipes, logs and tests. Consumes events only.
 *
 *   h01 | ok | rc=0 | 41 ms
 *   5.10.0-28-amd64
 *   h02 | UNREACHABLE (host_key) | 12 ms
 *   h02: HOST KEY CHANGED for [127.0.0.1]:2202: ...
 *   ok=1 failed=0 unreachable=1 | 0.1 s
 */
import type { RollgateEvent } from '../events/events.js';
import { terminalWriter } from './terminal-text.js';

type Output = Extract<RollgateEvent, { type: 'command.output' }>;
type Finished = Extract<RollgateEvent, { type: 'host.finished' }>;

export interface PlainRendererOptions {
  /** Where text goes (process.stdout.write by default). */
  write?: (text: string) => void;
  /** Print what each host's command printed. Default true. */
  showOutput?: boolean;
}

function block(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

/** One host's block: status line, then output (stderr after a STDERR: line), then the failure message. */
export function formatHostBlock(finished: Finished, output: Output | undefined, showOutput = true): string {
  const status = finished.status === 'ok' ? 'ok' : finished.status === 'failed' ? 'FAILED' : 'UNREACHABLE';
  const parts = [finished.host, finished.kind && finished.kind !== 'command' ? `${status} (${finished.kind})` : status];
  if (output) parts.push(output.signal ? `signal=${output.signal}` : `rc=${output.exitCode}`);
  parts.push(`${finished.ms} ms`);
  let text = `${parts.join(' | ')}\n`;
  if (output && showOutput) {
    text += block(output.stdout);
    if (output.stderr !== '') text += `STDERR:\n${block(output.stderr)}`;
  }
  if (finished.message && finished.kind !== 'command') text += block(finished.message);
  return text;
}

export function formatSummary(e: Extract<RollgateEvent, { type: 'fleet.finished' }>): string {
  return `ok=${e.ok} failed=${e.failed} unreachable=${e.unreachable} | ${(e.ms / 1000).toFixed(1)} s\n`;
}

/** A bus listener that writes host blocks and the summary. */
export function plainRenderer(options: PlainRendererOptions = {}): (event: RollgateEvent) => void {
  const write = terminalWriter(options.write ?? ((text: string) => void process.stdout.write(text)));
  const outputs = new Map<string, Output>();
  return (event) => {
    switch (event.type) {
      case 'command.output':
        outputs.set(event.host, event);
        break;
      case 'host.finished':
        write(formatHostBlock(event, outputs.get(event.host), options.showOutput ?? true));
        outputs.delete(event.host);
        break;
      case 'fleet.finished':
        write(formatSummary(event));
        break;
      default:
        break;
    }
  };
}
