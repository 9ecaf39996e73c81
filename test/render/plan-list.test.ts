import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/load/inventory.js';
import { loadPlaybook } from '../../src/load/playbook.js';
import { planRun } from '../../src/plan/plan.js';
import { formatPlan } from '../../src/render/plan-list.js';
import { runJsonRenderer } from '../../src/render/run-json.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/plan/${name}`, import.meta.url));

describe('--list-hosts / --list-tasks', () => {
  it('lists each play with its hosts and its tasks after tag selection', () => {
    const plan = planRun(loadInventory(fixture('inventory.yml')), loadPlaybook(fixture('playbook.yml')), {
      tags: ['args'],
    });
    expect(formatPlan(plan, { hosts: true, tasks: true })).toBe(
      [
        'play #1 (intel:amd): kernel\tTAGS: [kernel]',
        '  pattern: intel:amd',
        '  hosts (3):',
        '    hv01',
        '    hv02',
        '    hv03',
        '  tasks:',
        '    t-always\tTAGS: [kernel, always]',
        '    t-block-args\tTAGS: [kernel, change, args]',
        '    meta: flush_handlers\tTAGS: [kernel]',
        '',
        'play #2 (canary): canary only\tTAGS: []',
        '  pattern: canary',
        '  hosts (1):',
        '    hv01',
        '  tasks:',
        '',
      ].join('\n'),
    );
  });
});

describe('run --json', () => {
  it('writes run, play and task events one per line and leaves connection events out', () => {
    const lines: string[] = [];
    const render = runJsonRenderer((t) => lines.push(t));
    render({ type: 'host.connecting', at: 1, host: 'h1' });
    render({ type: 'task.result', at: 2, host: 'h1', task: 't', module: 'debug', status: 'ok', message: 'hi' });
    expect(lines).toEqual([
      '{"type":"task.result","at":2,"host":"h1","task":"t","module":"debug","status":"ok","message":"hi"}\n',
    ]);
  });
});
