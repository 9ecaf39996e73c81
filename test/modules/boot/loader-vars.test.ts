/**
 * Reading the Boot Loader Interface's EFI variables: the command run against efivarfs-format files in a temp root.
 * efivarfs refuses seeks (`tail -c +5 FILE`: "Illegal seek" on the systemd-boot lab VM, every variable read empty),
 * so the file must be read as a stream (the temp files here can be seeked: the second test pins the stream).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loaderVarPath, readLoaderVarCommand } from '../../../src/modules/boot/loader-vars.js';
import { hostRootFromVars } from '../../../src/modules/host-root.js';

const efiVar = (value: string) => Buffer.concat([Buffer.from([6, 0, 0, 0]), Buffer.from(`${value}\0`, 'utf16le')]);

describe('readLoaderVarCommand', () => {
  const root = mkdtempSync(join(tmpdir(), 'rg-efivars-'));
  const hr = hostRootFromVars({ rollgate_root: root });
  mkdirSync(join(root, 'sys/firmware/efi/efivars'), { recursive: true });
  const read = (name: 'LoaderEntrySelected' | 'LoaderEntryDefault') =>
    execFileSync('sh', ['-c', readLoaderVarCommand(hr, name).text], { encoding: 'utf8' });

  it('prints the id without the attribute bytes and NULs, and an empty line when the variable is unset', () => {
    writeFileSync(loaderVarPath(hr, 'LoaderEntrySelected'), efiVar('rollgate-lab-6.1.0-47-amd64.conf'));
    expect(read('LoaderEntrySelected')).toBe('rollgate-lab-6.1.0-47-amd64.conf\n');
    expect(read('LoaderEntryDefault')).toBe('\n');
  });

  it('reads the file as a stream, never seeking in it (efivarfs refuses seeks)', () => {
    expect(readLoaderVarCommand(hr, 'LoaderEntryDefault').text).toMatch(/cat "\$f" \| tail -c \+5/);
  });
});
