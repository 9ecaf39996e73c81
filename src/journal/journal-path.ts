/**
 * Where the controller's journal lives: --journal PATH, else $ROLLGATE_JOURNAL, else the XDG state directory. A
 * postgresql:// URL (a journal several controllers share) is taken as it is.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isPostgresUrl } from './pg-url.js';

const place = (spec: string) => (isPostgresUrl(spec) ? spec : resolve(spec));

export function resolveJournalPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return place(flag);
  if (env.ROLLGATE_JOURNAL) return place(env.ROLLGATE_JOURNAL);
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'rollgate', 'journal.db');
}
