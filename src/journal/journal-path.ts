/** Where the controller's journal lives: --journal PATH, else $ROLLGATE_JOURNAL, else the XDG state directory. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveJournalPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.ROLLGATE_JOURNAL) return resolve(env.ROLLGATE_JOURNAL);
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'rollgate', 'journal.db');
}
