/**
 * `rollgate lab` ends each outcome by the exit table: a mistyped option or argument is bad input (2, commander's
 * message, before anything starts), a lab step that fails is 1 with its message. Runs the built CLI against an
 * empty lab state directory, so no VM is started or touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, rollgate } from './support/cli.js';

const state = mkdtempSync(join(tmpdir(), 'rg-lab-cli-'));
const env = { ROLLGATE_LAB_STATE: state };
beforeAll(() => ensureBuilt());
afterAll(() => rmSync(state, { recursive: true, force: true }));

describe('rollgate lab exit statuses', () => {
  it.each([
    {
      args: ['lab', 'up', '--hosts', '0'],
      message: "option '--hosts <n>' argument '0' is invalid. expected a whole number from 1 to 8",
    },
    {
      args: ['lab', 'up', '--hosts', '99'],
      message: "option '--hosts <n>' argument '99' is invalid. expected a whole number from 1 to 8",
    },
    {
      args: ['lab', 'console', 'lab1', '-n', 'abc'],
      message: "option '-n, --lines <n>' argument 'abc' is invalid. expected a whole number of 1 or more",
    },
    {
      args: ['lab', 'fault', 'lab1', 'slow-boot', '--seconds', '0'],
      message: "option '--seconds <n>' argument '0' is invalid",
    },
    {
      args: ['lab', 'power', 'lab1', 'bogus'],
      message: "value 'bogus' is invalid for argument 'action'. Allowed choices are reset, off, on, status.",
    },
    {
      args: ['lab', 'fault', 'lab1', 'bogus'],
      message: "value 'bogus' is invalid for argument 'kind'. Allowed choices are bad-kernel",
    },
  ])('refuses `$args` as bad input (exit 2), not as an internal error', async ({ args, message }) => {
    const r = await rollgate(args, env);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(2);
  });

  it('ends a lab step that fails (no lab is up) with exit 1 and its message', async () => {
    const r = await rollgate(['lab', 'power', 'lab1', 'status'], env);
    expect(r.stderr.trim()).toBe(`rollgate lab: the lab is not up (no ${state}/lab.json); run \`rollgate lab up\``);
    expect(r.code).toBe(1);
  });
});
