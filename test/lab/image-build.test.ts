/**
 * runBuild against stand-in build scripts: progress lines reach onLine from both streams, a failure carries its
 * exit and last lines, a missing script says so, and the timeout kills the whole process group (a child the
 * script started included).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBuild } from '../../src/lab/image-build.js';
import { labSettings } from '../../src/lab/settings.js';

let dir: string;
const settings = (buildTimeoutMs = 30_000) => ({ ...labSettings({ ROLLGATE_LAB_CACHE: dir }), buildTimeoutMs });

function script(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, ['#!/bin/bash', ...lines].join('\n') + '\n');
  chmodSync(file, 0o755);
  return file;
}

/** Running (a zombie waiting for init to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rg-image-build-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runBuild', () => {
  it('passes the build environment and hands stage lines from stdout and stderr to onLine', async () => {
    const ok = script('ok.sh', ['echo "stage: one $OUT $SUITE"', 'echo "noise"', 'echo "stage: two $PARENT_PID" >&2']);
    const seen: string[] = [];
    await runBuild(settings(), { OUT: '/o', WORK: '/w', RECIPE_HASH: 'h' }, (l) => seen.push(l), ok);
    expect(seen).toEqual(['one /o bookworm', `two ${process.pid}`]);
  });

  it('fails with the exit code and the last lines', async () => {
    const bad = script('bad.sh', ['for i in $(seq 1 70); do echo "line $i"; done', 'exit 3']);
    const err = (await runBuild(settings(), {}, () => {}, bad).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^lab image build failed \(exit 3\); last lines:\nline 11\n/);
    expect(err.message).toMatch(/\nline 70$/);
  });

  it('says it cannot run a missing script', async () => {
    await expect(runBuild(settings(), {}, () => {}, join(dir, 'absent.sh'))).rejects.toThrow(
      /^cannot run the lab image build: .*ENOENT.* \(are debootstrap and qemu installed\? run scripts\/setup\.sh\)$/,
    );
  });

  it('kills the whole process group at the timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const slow = script('slow.sh', [`sleep 60 & echo $! > ${pidFile}`, 'wait']);
    const err = (await runBuild(settings(1500), {}, () => {}, slow).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^lab image build failed \(killed by SIGKILL\)/);
    await sleep(100);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });
});
