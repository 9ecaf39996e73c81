import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLockFile } from '../../src/lab/lock-file.js';

function deadPid(): number {
  return Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$" ']).toString().trim());
}

describe('lab lock file', () => {
  it('holds the lock while the work runs and removes it after', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-lock-')), 'lab.lock');
    const seen = await withLockFile(file, 1000, 'test', async () => readFileSync(file, 'utf8'));
    expect(seen).toBe(String(process.pid));
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock whose owner is gone, and nests within one process', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-lock-')), 'lab.lock');
    writeFileSync(file, String(deadPid()));
    const inner = await withLockFile(file, 5000, 'outer', () => withLockFile(file, 1000, 'inner', async () => 'ran'));
    expect(inner).toBe('ran');
  });

  it('waits for a live owner and gives up with the path after its timeout', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-lock-')), 'lab.lock');
    writeFileSync(file, '1'); // pid 1 is alive
    await expect(withLockFile(file, 1500, 'lab up', async () => 'never')).rejects.toThrow(/lab up: still locked by another process .*lab\.lock/);
  });
});
