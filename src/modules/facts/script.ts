/**
 * The one collection script per host: every source runs in its own `sh -c` under `timeout`, its stdout, stderr
 * and exit status framed by markers carrying a random nonce (so no output can forge a marker). The controller
 * splits the framed output back into sections. One SSH round trip for the whole snapshot.
 *
 * Every process the script starts costs: on a slow host (a lab VM under TCG, ~30-60 ms per fork and exec) the
 * framing alone was a quarter of a snapshot. So a section's stdout streams between its markers (no temporary file
 * and `cat`), and its stderr file is read only when it holds something: per section, `timeout` and `sh` and the
 * section's own commands, nothing more; a section that only prints what the kernel holds in memory (`instant`)
 * runs in a subshell of the script (its traps reset, its `exit` its own) without either.
 */
import { randomBytes } from 'node:crypto';
import { sh, joinSh, raw, type ShellFragment } from '../../connection/shell-quote.js';
import type { SourceSpec } from './sources.js';

/** What one section produced on the host. */
export interface SectionResult {
  stdout: string;
  /** At most 2000 bytes of stderr. */
  stderr: string;
  /** Exit status of the section's snippet; 124 = killed by the time limit. */
  exitCode: number;
}

export interface CollectionScript {
  nonce: string;
  script: ShellFragment;
}

export function buildCollectionScript(
  sources: SourceSpec[],
  sectionTimeoutSec = 30,
  nonce = randomBytes(8).toString('hex'),
): CollectionScript {
  const header = sh`rg_n=${nonce}
rg_t=$(mktemp -d 2>/dev/null) || { echo "mktemp failed" >&2; exit 70; }
trap 'rm -rf "$rg_t"' EXIT
if command -v timeout >/dev/null 2>&1; then rg_to="timeout -k 2 ${sectionTimeoutSec}"; else rg_to=""; fi
export LC_ALL=C PATH="$PATH:/usr/sbin:/sbin"
rg_sec() {
  printf '\\n@@rg:%s:out %s@@\\n' "$rg_n" "$1"
  if [ "$3" = instant ]; then (eval "$2") 2>"$rg_t/e" </dev/null; else $rg_to sh -c "$2" 2>"$rg_t/e" </dev/null; fi
  rg_rc=$?
  printf '\\n@@rg:%s:err %s@@\\n' "$rg_n" "$1"
  [ -s "$rg_t/e" ] && head -c 2000 "$rg_t/e"
  printf '\\n@@rg:%s:end %s %s@@\\n' "$rg_n" "$1" "$rg_rc"
}`;
  const calls = sources.map((s) => sh`rg_sec ${s.name} ${s.snippet.text}${raw(s.instant ? ' instant' : '')}`);
  return { nonce, script: joinSh([header, ...calls, raw('exit 0')], '\n') };
}

/** Split the framed output back into sections; a section whose frame is incomplete is left out. */
export function splitSections(stdout: string, nonce: string): Map<string, SectionResult> {
  const out = new Map<string, SectionResult>();
  const tag = `@@rg:${nonce}:`;
  let pos = 0;
  for (;;) {
    const start = stdout.indexOf(`\n${tag}out `, pos);
    if (start < 0) break;
    const nameEnd = stdout.indexOf('@@\n', start + tag.length + 5);
    if (nameEnd < 0) break;
    const name = stdout.slice(start + tag.length + 5, nameEnd);
    const bodyStart = nameEnd + 3;
    const errMark = `\n${tag}err ${name}@@\n`;
    const errAt = stdout.indexOf(errMark, bodyStart);
    if (errAt < 0) break;
    const endRe = new RegExp(`\\n${tag}end ${name.replace(/[^\w]/g, '\\$&')} (\\d+)@@\\n`, 'g');
    endRe.lastIndex = errAt + errMark.length;
    const end = endRe.exec(stdout);
    if (!end) break;
    out.set(name, {
      stdout: stdout.slice(bodyStart, errAt),
      stderr: stdout.slice(errAt + errMark.length, end.index),
      exitCode: Number(end[1]),
    });
    pos = end.index + end[0].length - 1;
  }
  return out;
}
