/**
 * `rollgate run` output as ansible-playbook prints it: PLAY / TASK headers, one line per host result (per loop
 * item), `debug` messages and failures shown, and with --diff a unified diff of every file a change would write
 * plus the commands it would run. Ends with the PLAY RECAP and, when a host failed after a change, the
 * `rollgate undo` that puts it back. Consumes events only; no colours.
 *
 *   TASK [kernel args] *************************************************************
 *   changed: [hv01]
 *   --- before: /etc/default/grub
 *   +++ after: /etc/default/grub
 *   @@ -6,1 +6,1 @@
 *   -GRUB_CMDLINE_LINUX="quiet"
 *   +GRUB_CMDLINE_LINUX="quiet intel_iommu=on iommu=pt"
 */
import { createTwoFilesPatch } from 'diff';
import type { HostRecap, RollgateEvent, TaskPreview } from '../events/events.js';
import { quote } from '../connection/shell-quote.js';
import { terminalWriter } from './terminal-text.js';

type TaskResult = Extract<RollgateEvent, { type: 'task.result' }>;

export interface RunRendererOptions {
  write?: (text: string) => void;
  /** Print file diffs and commands of changes (--diff). */
  diff?: boolean;
  /** The --journal the run used, repeated in the undo command it prints (absent: the default journal). */
  journal?: string;
}

function header(title: string): string {
  return `\n${title} ${'*'.repeat(Math.max(3, 79 - title.length))}\n`;
}

/** Unified diffs of the files and the commands of one preview. */
export function formatPreview(preview: TaskPreview): string {
  let out = '';
  for (const f of preview.files) {
    const patch = createTwoFilesPatch(
      `before: ${f.path}`,
      `after: ${f.path}`,
      f.before ?? '',
      f.after ?? '',
      undefined,
      undefined,
      { context: 3 },
    );
    // Drop jsdiff's "Index:"/"===" preamble; keep ---/+++ and hunks, as `diff -u` prints them.
    out += patch
      .split('\n')
      .filter((l) => !l.startsWith('Index: ') && !/^=+$/.test(l))
      .join('\n');
    if (!out.endsWith('\n')) out += '\n';
    if (f.after === null) out += `(file would be removed: ${f.path})\n`;
  }
  for (const c of preview.commands) out += `command: ${c}\n`;
  return out;
}

const word: Record<TaskResult['status'], string> = {
  ok: 'ok',
  changed: 'changed',
  skipped: 'skipping',
  failed: 'fatal',
  unreachable: 'fatal',
};

export function formatResult(e: TaskResult, diff: boolean): string {
  const item = e.item !== undefined ? ` => (item=${e.item})` : '';
  let line: string;
  if (e.status === 'failed')
    line = `fatal: [${e.host}]: FAILED!${item}${e.message ? ` => ${e.message}` : ''}\n${e.ignored ? '...ignoring\n' : ''}`;
  else if (e.status === 'unreachable')
    line = `fatal: [${e.host}]: UNREACHABLE!${e.message ? ` => ${e.message}` : ''}\n`;
  else {
    const shown = e.module === 'debug' && e.message !== undefined ? ` => ${e.message}` : '';
    line = `${word[e.status]}: [${e.host}]${item}${shown}\n`;
  }
  if (diff && e.preview && (e.status === 'changed' || e.status === 'skipped')) line += formatPreview(e.preview);
  return line;
}

export function formatRecap(hosts: Record<string, HostRecap>): string {
  const names = Object.keys(hosts);
  const width = Math.max(26, ...names.map((n) => n.length + 1));
  let out = header('PLAY RECAP');
  for (const name of names) {
    const r = hosts[name]!;
    // Ansible's layout: "ok=%-4s changed=%-4s ..."
    const cells = (['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const).map(
      (k) => `${k}=${String(r[k]).padEnd(4)}`,
    );
    out += `${name.padEnd(width)} : ${cells.join(' ').trimEnd()}\n`;
  }
  return out;
}

/** After the recap: the hosts a failure left half-changed, and the one command that puts them back. */
export function formatUndoHint(runId: string, hosts: readonly string[], journal?: string): string {
  const args = [runId, '--limit', hosts.join(','), ...(journal ? ['--journal', journal] : [])].map(quote).join(' ');
  return `\n${hosts.join(', ')} failed after this run changed ${hosts.length === 1 ? 'it' : 'them'}; to put back what it changed there:\n  rollgate undo ${args}\n`;
}

export function runPlainRenderer(options: RunRendererOptions = {}): (event: RollgateEvent) => void {
  const write = terminalWriter(options.write ?? ((text: string) => void process.stdout.write(text)));
  return (event) => {
    switch (event.type) {
      case 'run.started':
        if (event.check) write('(check mode: nothing will be changed)\n');
        break;
      case 'play.started':
        write(header(`PLAY [${event.play}]`));
        if (event.hosts.length === 0) write('skipping: no hosts matched\n');
        break;
      case 'task.started':
        write(header(`${event.handler ? 'RUNNING HANDLER' : 'TASK'} [${event.task}]`));
        break;
      case 'task.result':
        write(formatResult(event, options.diff === true));
        break;
      case 'play.recap':
        write(formatRecap(event.hosts));
        break;
      case 'run.finished':
        if (event.undoHosts?.length) write(formatUndoHint(event.runId, event.undoHosts, options.journal));
        break;
      default:
        break;
    }
  };
}
