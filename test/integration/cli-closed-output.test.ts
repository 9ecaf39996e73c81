/**
 * A reader that goes away (`rollgate … | head`, a closed terminal) must not crash the CLI with an unhandled EPIPE
 * stack trace: what it would have printed is dropped and the command ends as it would have.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/cli.js';

const root = join(import.meta.dirname, '..', '..');

beforeAll(() => ensureBuilt());

describe('the CLI writing to a closed pipe', () => {
  it.each([{ args: ['rollout', '--help'] }, { args: ['lab', 'fault', '--help'] }, { args: ['--help'] }])(
    'rollgate $args | true: exit 0, no EPIPE on stderr',
    ({ args }) => {
      // `true` exits without reading: every write of the CLI meets a pipe without a reader. PIPESTATUS[0] is the
      // CLI's own exit status; stderr is the CLI's.
      const out = execFileSync(
        'bash',
        [
          '-c',
          'node bin/rollgate.js "$@" 2>"$ERR_FILE" | true; echo "rc=${PIPESTATUS[0]}"; cat "$ERR_FILE"',
          'sh',
          ...args,
        ],
        {
          cwd: root,
          encoding: 'utf8',
          env: { ...process.env, ERR_FILE: join(root, '.local-fleet', `epipe-${process.pid}.err`) },
          timeout: 60_000,
        },
      );
      expect(out).toBe('rc=0\n');
    },
  );
});
