import { describe, expect, it } from 'vitest';
import { escapeTerminal, terminalSafe } from '../../src/render/terminal-text.js';
import { runPlainRenderer } from '../../src/render/run-plain.js';
import { formatRolloutEvent, rolloutPlainRenderer } from '../../src/render/rollout-plain.js';
import { plainRenderer } from '../../src/render/plain.js';

const HOSTILE = 'a\x1b]0;pwned\x07b \u202eexe.txt\u202c c\r\x9b2J\u2066x\u2069 d\x00\x7f';
const SHOWN = 'a\\x1b]0;pwned\\x07b \\u202eexe.txt\\u202c c\\x0d\\x9b2J\\u2066x\\u2069 d\\x00\\x7f';

describe('terminal-safe text', () => {
  it('escapes C0/C1 controls, DEL and bidi controls, keeps newlines, tabs and ordinary Unicode', () => {
    expect(escapeTerminal(HOSTILE)).toBe(SHOWN);
    expect(escapeTerminal('line 1\n\tline 2 — ünïcode ✓')).toBe('line 1\n\tline 2 — ünïcode ✓');
    expect(terminalSafe({ host: 'h\x1b[31m', list: ['\u202e'] })).toEqual({ host: 'h\\x1b[31m', list: ['\\u202e'] });
  });

  it('is applied by the plain run, rollout and exec renderers', () => {
    let run = '';
    runPlainRenderer({ write: (t) => (run += t) })({
      type: 'task.result',
      at: 0,
      host: 'h1',
      task: 't',
      module: 'debug',
      status: 'ok',
      message: HOSTILE,
    });
    expect(run).toBe(`ok: [h1] => ${SHOWN}\n`);
    let rollout = '';
    rolloutPlainRenderer((t) => (rollout += t))({
      type: 'rollout.host_finished',
      at: 0,
      runId: 'r',
      host: 'h\u202e1',
      status: 'failed',
      message: HOSTILE,
      ms: 0,
    });
    expect(rollout).toBe(`  h\\u202e1: failed (0.0 s): ${SHOWN}\n`);
    let exec = '';
    const render = plainRenderer({ write: (t) => (exec += t) });
    render({ type: 'command.output', at: 0, host: 'h1', stdout: `${HOSTILE}\n`, stderr: '', exitCode: 0 });
    render({ type: 'host.finished', at: 0, host: 'h1', status: 'ok', ms: 1 });
    expect(exec).toBe(`h1 | ok | rc=0 | 1 ms\n${SHOWN}\n`);
    expect(exec).not.toMatch(/[\x1b\x07\u202e]/);
    // The formatter itself stays raw: `rollgate show` and the renderers escape where they write.
    expect(
      formatRolloutEvent({ type: 'rollout.stopped', at: 0, runId: 'r', reason: 'x', message: '\x1b', untouched: [] }),
    ).toEqual(['STOPPED (x): \x1b']);
  });
});
