import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/journal/journal.js';
import { migrate, migrations } from '../../src/journal/migrations/index.js';
import { sql as undoKinds } from '../../src/journal/migrations/003-undo-kinds.js';

const RELEASE = 'd=/sys/bus/pci/devices/0000:01:00.0; printf \'\\n\' > "$d/driver_override"';
/** Undo records as rollgate wrote them before re-derivations, reversals and restores were told apart. */
const OLD: Array<[string, Record<string, unknown>]> = [
  ['command', { files: [], rebuild: ['rm -rf /srv/data'] }],
  ['shell', { files: [], rebuild: [] }],
  [
    'kernel_package',
    {
      files: [],
      rebuild: ['apt-mark unhold linux-image-x', 'apt-get remove -y linux-image-x'],
      extra: { running_kernel: 'x' },
    },
  ],
  [
    'initramfs',
    {
      files: [],
      rebuild: ['if [ -f /c ]; then cp -p -- /c /boot/initrd.img-x && rm -f -- /c; fi'],
      createdDirs: ['/var/lib/rollgate'],
    },
  ],
  ['vfio_bind', { files: [], rebuild: ['for i in /boot/initrd.img-*; do :; done', RELEASE] }],
  ['kernel_args', { files: [], rebuild: ['update-grub'] }],
];

describe('journal migration 3: undo records say which commands are reversals', () => {
  it('moves old command / shell / package records to reversals, copy-backs to restores, keeps re-derivations; a second pass changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-migrate-'));
    try {
      const path = join(dir, 'journal.db');
      const db = new Database(path);
      migrate(
        db,
        migrations.filter((m) => m.version === 1),
      );
      db.prepare(
        `INSERT INTO runs (id, kind, status, controller, started_at) VALUES ('r1', 'run', 'failed', 'c:1', 0)`,
      ).run();
      for (const [module, record] of OLD) {
        const step = db
          .prepare(
            `INSERT INTO steps (run_id, host, task, module, status, started_at) VALUES ('r1', 'h1', ?, ?, 'failed', 0)`,
          )
          .run(module, module);
        db.prepare('INSERT INTO undo_records (step_id, record, recorded_at) VALUES (?, ?, 0)').run(
          step.lastInsertRowid,
          JSON.stringify(record),
        );
      }
      db.close();

      const j = Journal.open(path);
      const byModule = Object.fromEntries(j.undoableSteps('r1', 'h1').map((s) => [s.module, s.undo]));
      expect(byModule).toEqual({
        command: { files: [], rebuild: [], reverse: ['rm -rf /srv/data'] },
        shell: { files: [], rebuild: [], reverse: [] },
        kernel_package: {
          files: [],
          rebuild: [],
          reverse: ['apt-mark unhold linux-image-x', 'apt-get remove -y linux-image-x'],
          extra: { running_kernel: 'x' },
        },
        initramfs: {
          files: [],
          rebuild: [],
          reverse: [],
          restore: ['if [ -f /c ]; then cp -p -- /c /boot/initrd.img-x && rm -f -- /c; fi'],
          createdDirs: ['/var/lib/rollgate'],
        },
        vfio_bind: { files: [], rebuild: ['for i in /boot/initrd.img-*; do :; done'], reverse: [RELEASE] },
        kernel_args: { files: [], rebuild: ['update-grub'] },
      });
      const dump = () => JSON.stringify(j.db.prepare('SELECT * FROM undo_records ORDER BY step_id').all());
      const once = dump();
      j.db.exec(undoKinds);
      expect(dump()).toBe(once);
      j.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
