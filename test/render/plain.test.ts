import { describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { jsonLinesRenderer } from '../../src/render/json-lines.js';
import { plainRenderer } from '../../src/render/plain.js';

// A recorded run: one ok host, one failing command, one refused host key, one command timeout.
const events: RollgateEvent[] = [
  { type: 'fleet.started', at: 0, hosts: ['h01', 'h02', 'h03', 'h04'], forks: 50 },
  { type: 'host.connecting', at: 1, host: 'h01' },
  { type: 'host.connected', at: 5, host: 'h01', ms: 4 },
  { type: 'command.started', at: 5, host: 'h01', command: 'uname -r' },
  { type: 'command.finished', at: 9, host: 'h01', exitCode: 0, ms: 4 },
  { type: 'command.output', at: 9, host: 'h01', stdout: '6.1.0-18-amd64\n', stderr: '', exitCode: 0 },
  { type: 'host.finished', at: 9, host: 'h01', status: 'ok', ms: 8 },
  { type: 'command.output', at: 10, host: 'h02', stdout: '', stderr: 'ls: cannot access x', exitCode: 2 },
  { type: 'host.finished', at: 10, host: 'h02', status: 'failed', kind: 'command', message: 'exit status 2', ms: 9 },
  { type: 'host.failed', at: 11, host: 'h03', kind: 'host_key', message: 'h03: HOST KEY CHANGED for [127.0.0.1]:2203' },
  {
    type: 'host.finished',
    at: 11,
    host: 'h03',
    status: 'unreachable',
    kind: 'host_key',
    message: 'h03: HOST KEY CHANGED for [127.0.0.1]:2203',
    ms: 3,
  },
  {
    type: 'host.finished',
    at: 1500,
    host: 'h04',
    status: 'failed',
    kind: 'timeout',
    message: 'h04: command did not finish within 1000 ms',
    ms: 1499,
  },
  { type: 'fleet.finished', at: 1500, ok: 1, failed: 2, unreachable: 1, ms: 1500 },
];

function render(listener: (e: RollgateEvent) => void, sink: string[]): string {
  events.forEach(listener);
  return sink.join('');
}

describe('plain renderer', () => {
  it('prints one block per host and a summary', () => {
    const out: string[] = [];
    expect(render(plainRenderer({ write: (t) => out.push(t) }), out)).toMatchInlineSnapshot(`
      "h01 | ok | rc=0 | 8 ms
      6.1.0-18-amd64
      h02 | FAILED | rc=2 | 9 ms
      STDERR:
      ls: cannot access x
      h03 | UNREACHABLE (host_key) | 3 ms
      h03: HOST KEY CHANGED for [127.0.0.1]:2203
      h04 | FAILED (timeout) | 1499 ms
      h04: command did not finish within 1000 ms
      ok=1 failed=2 unreachable=1 | 1.5 s
      "
    `);
  });
});

describe('JSON lines renderer', () => {
  it('writes one result per host and a summary in results mode', () => {
    const out: string[] = [];
    const lines = render(
      jsonLinesRenderer('results', (t) => out.push(t)),
      out,
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { type: 'host', host: 'h01', status: 'ok', exitCode: 0, stdout: '6.1.0-18-amd64\n', stderr: '', ms: 8 },
      {
        type: 'host',
        host: 'h02',
        status: 'failed',
        kind: 'command',
        message: 'exit status 2',
        exitCode: 2,
        stdout: '',
        stderr: 'ls: cannot access x',
        ms: 9,
      },
      {
        type: 'host',
        host: 'h03',
        status: 'unreachable',
        kind: 'host_key',
        message: 'h03: HOST KEY CHANGED for [127.0.0.1]:2203',
        ms: 3,
      },
      {
        type: 'host',
        host: 'h04',
        status: 'failed',
        kind: 'timeout',
        message: 'h04: command did not finish within 1000 ms',
        ms: 1499,
      },
      { type: 'summary', ok: 1, failed: 2, unreachable: 1, ms: 1500 },
    ]);
  });

  it('writes every event in events mode', () => {
    const out: string[] = [];
    expect(
      render(
        jsonLinesRenderer('events', (t) => out.push(t)),
        out,
      )
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(events);
  });
});
