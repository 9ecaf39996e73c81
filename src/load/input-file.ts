/**
 * Reading an operator's input file (playbook, inventory, vars file, `-e @file`): regular files only, since a FIFO
 * or a device would block or never end, and at most MAX_INPUT_BYTES, so that a wrong path fails at once instead
 * of filling memory. The file is opened without blocking and checked on the open descriptor.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ConfigError } from '../core/config-error.js';
import { isVaulted, openVaultedFile } from './vault.js';

/** Largest YAML or JSON input read, in bytes (a 10,000-host inventory with its variables is about 2 MiB). */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The problem with `file` as an input, or the open descriptor and size. `label` names it in messages. */
function open(file: string, label: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([
      {
        message: `cannot read ${label}: ${code}`,
        hint: code === 'ELOOP' ? 'a symbolic link points back at itself; fix or remove it' : 'check the path',
      },
    ]);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new ConfigError([
      { message: `${label} is ${kindOf(st)}, not a regular file`, hint: 'give the path of a YAML or JSON file' },
    ]);
  }
  if (st.size > MAX_INPUT_BYTES) {
    closeSync(fd);
    throw new ConfigError([
      {
        message: `${label} is ${st.size} bytes; rollgate reads YAML and JSON inputs up to ${MAX_INPUT_BYTES} bytes (8 MiB)`,
        hint: 'split it (an inventory directory, files under group_vars/), or check that this is the file you meant',
      },
    ]);
  }
  return { fd, size: st.size };
}

/**
 * The text of an input file; a ConfigError when it is missing, not a regular file, or too large. A file
 * encrypted with ansible-vault is returned decrypted (vault.ts).
 */
export function readInputFile(file: string, label: string = file): string {
  const { fd, size } = open(file, label);
  try {
    // Read at most one byte past the size seen, so a file growing meanwhile cannot get past the limit.
    const buf = Buffer.alloc(Math.min(size, MAX_INPUT_BYTES) + 1);
    let got = 0;
    for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, null);
    if (got > MAX_INPUT_BYTES)
      throw new ConfigError([
        {
          message: `${label} grew past ${MAX_INPUT_BYTES} bytes while being read`,
          hint: 'read a file that is not being written',
        },
      ]);
    const text = buf.subarray(0, got).toString('utf8');
    return isVaulted(text) ? openVaultedFile(text, file) : text;
  } finally {
    closeSync(fd);
  }
}

/** Refuse an inline input (`-e '{...}'`) larger than the file limit. */
export function checkInputSize(text: string, label: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_INPUT_BYTES)
    throw new ConfigError([
      {
        message: `${label} is ${bytes} bytes; rollgate reads YAML and JSON inputs up to ${MAX_INPUT_BYTES} bytes (8 MiB)`,
        hint: 'put the values in a smaller file',
      },
    ]);
}
