import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleMark, consoleSince, waitForConsole } from '../../src/lab/console.js';

describe('serial console log', () => {
  it('shows only what came after a mark, without terminal escapes', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-console-')), 'console.log');
    writeFileSync(file, 'old boot\r\n');
    const mark = consoleMark(file);
    appendFileSync(file, '\x1b[0;32m  OK  \x1b[0m] Started ssh\r\nALERT!  UUID=x does not exist.\r\n');
    expect(consoleSince(file, mark)).toBe('  OK  ] Started ssh\nALERT!  UUID=x does not exist.\n');
    expect((await waitForConsole(file, mark, /ALERT! +UUID=(\S+)/, 1000, 50))[1]).toBe('x');
    await expect(waitForConsole(file, mark, /old boot/, 300, 50)).rejects.toThrow(/no \/old boot\/ within/);
  });
});
