import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { runJournaledStep } from '../../src/executor/journaled-step.js';
import { ConnectionError, type Connection } from '../../src/connection/connection.js';
import { ModuleFailure, type ActionModule, type ModuleContext } from '../../src/modules/module.js';

// The protocol is about the journal, not the host: an in-memory module and a connection that is never used.
const conn: Connection = { host: 'h1', exec: () => Promise.reject(new Error('not used')), close: async () => {} };
const ctx = (checkMode = false): ModuleContext => ({ conn, host: 'h1', vars: {}, checkMode, emit: () => {} });
const undo = { files: [{ path: '/etc/x', contentBase64: null }], rebuild: ['update-grub'] };

function module(behaviour: { change?: boolean; applyError?: Error; checkError?: Error; onApply?: () => void }): ActionModule<Record<string, unknown>, string> {
  return {
    name: 'kernel_args',
    description: '',
    changesHost: true,
    options: { type: 'object', properties: {} },
    async check() {
      if (behaviour.checkError) throw behaviour.checkError;
      if (!behaviour.change) return { status: 'no_change', reason: 'already so' };
      return { status: 'change', change: 'c', preview: { summary: 'add iommu=pt', files: [], commands: ['update-grub'] }, undo, rebootRequired: true };
    },
    async apply() {
      behaviour.onApply?.();
      if (behaviour.applyError) throw behaviour.applyError;
      return { message: 'done', data: { reboot_required: true } };
    },
  };
}

describe('journaled step', () => {
  it('records the undo before apply runs, then the applied outcome', async () => {
    const j = Journal.open(':memory:');
    const run = j.createRun({ kind: 'run' });
    let seenAtApply: unknown;
    const out = await runJournaledStep({
      journal: j, runId: run.id, ctx: ctx(), task: 'enable', args: {},
      module: module({ change: true, onApply: () => (seenAtApply = j.undoableSteps(run.id, 'h1').map((s) => [s.status, s.undo])) }),
    });
    expect(seenAtApply).toEqual([['pending', undo]]);
    expect(out).toMatchObject({ status: 'changed', message: 'done', rebootRequired: true, data: { reboot_required: true } });
    expect(j.getStep(out.stepId)).toMatchObject({ status: 'applied', hasUndo: true });
  });

  it('journals no_change as ok and check mode as a preview without undo or apply', async () => {
    const j = Journal.open(':memory:');
    const run = j.createRun({ kind: 'check' });
    expect(await runJournaledStep({ journal: j, runId: run.id, ctx: ctx(), task: 't', args: {}, module: module({}) })).toMatchObject({ status: 'ok', message: 'already so' });
    let applied = false;
    const out = await runJournaledStep({ journal: j, runId: run.id, ctx: ctx(true), task: 't', args: {}, module: module({ change: true, onApply: () => (applied = true) }) });
    expect(out).toMatchObject({ status: 'changed', preview: { summary: 'add iommu=pt' } });
    expect(applied).toBe(false);
    expect(j.getStep(out.stepId)).toMatchObject({ status: 'ok', hasUndo: false, data: { check_mode: true } });
  });

  it('keeps the undo of a failed apply (undo can still restore) and rethrows connection loss after journaling it', async () => {
    const j = Journal.open(':memory:');
    const run = j.createRun({ kind: 'run' });
    const failure = new ModuleFailure('update-grub failed (exit 1): boom', false, { exitCode: 1, stderrTail: 'boom' });
    const out = await runJournaledStep({ journal: j, runId: run.id, ctx: ctx(), task: 't', args: {}, module: module({ change: true, applyError: failure }) });
    expect(out).toMatchObject({ status: 'failed', retryable: false, command: { exitCode: 1 } });
    expect(j.undoableSteps(run.id, 'h1').map((s) => s.id)).toEqual([out.stepId]);
    const refused = await runJournaledStep({ journal: j, runId: run.id, ctx: ctx(), task: 't', args: {}, module: module({ checkError: new ModuleFailure('wrong CPU') }) });
    expect(refused).toMatchObject({ status: 'failed', message: 'wrong CPU' });
    expect(j.getStep(refused.stepId)).toMatchObject({ hasUndo: false });
    await expect(
      runJournaledStep({ journal: j, runId: run.id, ctx: ctx(), task: 't', args: {}, module: module({ change: true, applyError: new ConnectionError('dropped', 'gone') }) }),
    ).rejects.toMatchObject({ kind: 'dropped' });
    expect(j.listSteps(run.id).at(-1)).toMatchObject({ status: 'failed', message: 'gone', hasUndo: true });
  });
});
