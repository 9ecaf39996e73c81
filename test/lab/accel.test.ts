/**
 * The KVM probe against a stand-in qemu-system-x86_64 on PATH: the verdict comes from the serial log, QEMU is
 * stopped as soon as the kernel has printed (not left to the 30 s timeout), and the probe's directory goes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeKvm } from '../../src/lab/accel.js';

let dir: string;
let savedPath: string | undefined;

/** A fake QEMU: writes `text` to the `-serial file:` path, records its pid, then sleeps `sleep` seconds. */
function fakeQemu(text: string, sleep: number): void {
  const bin = join(dir, 'bin');
  rmSync(bin, { recursive: true, force: true });
  const script = [
    '#!/bin/sh',
    `echo $$ > ${join(dir, 'qemu.pid')}`,
    'for a in "$@"; do case "$a" in file:*) log="${a#file:}";; esac; done',
    `printf '%s\\n' '${text}' > "$log"`,
    `exec sleep ${sleep}`,
  ].join('\n');
  mkdirSync(bin);
  writeFileSync(join(bin, 'qemu-system-x86_64'), script + '\n');
  chmodSync(join(bin, 'qemu-system-x86_64'), 0o755);
  process.env.PATH = `${bin}:${savedPath}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rg-accel-'));
  savedPath = process.env.PATH;
});
afterEach(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

describe('probeKvm', () => {
  it('says yes once the kernel prints, stops QEMU then and removes its directory', async () => {
    fakeQemu('Linux version 6.1.0-47-amd64', 60);
    const work = join(dir, 'work');
    mkdirSync(work);
    const started = Date.now();
    expect(await probeKvm(work, '/nonexistent.qcow2')).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(alive(Number(readFileSync(join(dir, 'qemu.pid'), 'utf8')))).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });

  it('says no when QEMU exits without the kernel printing', async () => {
    fakeQemu('SeaBIOS (version 1.16)', 0);
    const work = join(dir, 'work');
    mkdirSync(work);
    expect(await probeKvm(work, '/nonexistent.qcow2')).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });
});
