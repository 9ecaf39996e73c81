/**
 * Writing files on a host so that a cut link, a killed controller or a full disk never installs partial bytes:
 * the new bytes go to a temp file beside the target, the host checks their length and sha256 against what the
 * controller sent, fsyncs the file, renames it over the target and fsyncs the directory. Anything short of that
 * removes the temp file and leaves the target as it was. Copies made on the host (`cp`) are checked the same way
 * against their source. sha256sum is in coreutils and busybox; a host without it is refused, never unchecked.
 */
import { createHash } from 'node:crypto';
import type { Connection } from '../connection/connection.js';
import { raw, sh, type ShellFragment } from '../connection/shell-quote.js';
import { ModuleFailure } from './module.js';

/** Mode and owner for a file rollgate writes. Defaults: 0644, root:root. */
export interface FileAttrs {
  mode: number;
  uid: number;
  gid: number;
}

export const DEFAULT_ATTRS: FileAttrs = { mode: 0o644, uid: 0, gid: 0 };

/** written: new bytes are in place; unchanged: the file already had these bytes, mode and owner (nothing written). */
export type WriteOutcome = 'written' | 'unchanged';

// First in every script: without sha256sum nothing can be verified, so nothing is written.
const NEED_SHA = `command -v sha256sum >/dev/null 2>&1 || { echo 'sha256sum is not installed on this host: rollgate does not install bytes it cannot verify (install coreutils or busybox)' >&2; exit 3; }`;
// Whole-file fsync where coreutils can (sync FILE, since 8.24), else a global sync.
const FSYNC = (v: string) => `{ sync -- "${v}" 2>/dev/null || sync; }`;

function writeScript(path: string, size: number, sum: string, attrs: FileAttrs): ShellFragment {
  const mode = attrs.mode.toString(8);
  const owner = `${attrs.uid}:${attrs.gid}`;
  // fail() removes the temp file before it prints: stderr may be a closed pipe once the controller is gone.
  return sh`${raw(NEED_SHA)}
p=${path}; n=${size}; h=${sum}; d=$(dirname -- "$p")
if [ -f "$p" ] && [ ! -L "$p" ] && [ "$(stat -c '%a %u:%g' -- "$p")" = ${`${mode} ${owner}`} ] && s=$(sha256sum < "$p") && [ "\${s%% *}" = "$h" ]; then
  cat >/dev/null; echo unchanged; exit 0
fi
mkdir -p -- "$d" || exit 1
t=$(mktemp -- "$d/.rollgate.XXXXXX") || exit 1
fail() { rm -f -- "$t"; printf '%s; %s is left as it was\\n' "$1" "$p" >&2; exit 1; }
e=$(cat 2>&1 > "$t") || fail "writing the new bytes failed ($e)"
c=$(wc -c < "$t" | tr -d ' \\t') || fail 'cannot measure the new bytes'
[ "$c" = "$n" ] || fail "received $c of $n bytes (the transfer was cut short)"
s=$(sha256sum < "$t") || fail 'sha256sum failed'
[ "\${s%% *}" = "$h" ] || fail 'the sha256 of the received bytes is not the sha256 sent'
e=$({ chmod ${mode} -- "$t" && chown ${owner} -- "$t"; } 2>&1) || fail "cannot set mode ${mode} and owner ${owner} ($e)"
${raw(FSYNC('$t'))}
e=$(mv -f -- "$t" "$p" 2>&1) || fail "cannot rename the new file into place ($e)"
${raw(FSYNC('$d'))}
if command -v restorecon >/dev/null 2>&1; then restorecon -- "$p" 2>/dev/null; fi
echo written`;
}

function failureTail(stderr: string, exitCode: number | null): string {
  return stderr.trim().split('\n').slice(-3).join('\n') || `exit ${exitCode}`;
}

/**
 * Replace a file atomically and verified: readers see the old or the new bytes, never a mix, and the new bytes
 * are installed only when the host received all of them (length and sha256). Throws ModuleFailure otherwise.
 */
export async function writeRemoteFile(
  conn: Connection,
  path: string,
  content: Buffer | string,
  attrs: FileAttrs = DEFAULT_ATTRS,
): Promise<WriteOutcome> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const sum = createHash('sha256').update(bytes).digest('hex');
  const r = await conn.exec(writeScript(path, bytes.length, sum, attrs), { stdin: bytes });
  const said = r.stdout.trim().split('\n').pop();
  if (r.exitCode === 0 && (said === 'written' || said === 'unchanged')) return said;
  const tail = failureTail(r.stderr, r.exitCode);
  throw new ModuleFailure(`cannot write ${path}: ${tail}`, false, { exitCode: r.exitCode, stderrTail: tail });
}

/**
 * Shell text copying `src` to `dst` on the host: into a temp file beside `dst`, compared with `src` by sha256
 * (and with `expectSha` when given: the bytes as they were recorded), fsynced, renamed. Short enough to show as
 * the command of a preview.
 */
export function copyScript(src: string, dst: string, expectSha?: string): ShellFragment {
  const expect = expectSha ? sh` && [ "\${a%% *}" = ${expectSha} ]` : sh``;
  return sh`${raw(NEED_SHA)}; s=${src}; p=${dst}; d=$(dirname -- "$p"); t=$(mktemp -- "$d/.rollgate.XXXXXX") || exit 1; if cp -p -- "$s" "$t" && a=$(sha256sum < "$s") && b=$(sha256sum < "$t") && [ "$a" = "$b" ]${expect} && ${raw(FSYNC('$t'))} && mv -f -- "$t" "$p"; then ${raw(FSYNC('$d'))}; else rm -f -- "$t"; echo "the copy of $s to $p does not match its source (sha256); $p is left as it was" >&2; exit 1; fi`;
}

/** Copy a file on the host, verified (see copyScript). Throws ModuleFailure when the copy cannot be trusted. */
export async function copyRemoteFile(conn: Connection, src: string, dst: string, expectSha?: string): Promise<void> {
  const r = await conn.exec(copyScript(src, dst, expectSha));
  if (r.exitCode !== 0) {
    const tail = failureTail(r.stderr, r.exitCode);
    throw new ModuleFailure(`cannot copy ${src} to ${dst}: ${tail}`, false, { exitCode: r.exitCode, stderrTail: tail });
  }
}
