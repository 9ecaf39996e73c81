/**
 * Kernel log lines as operators paste them: plain `dmesg`, `dmesg -T`, `dmesg -H` (relative `[  +0.000012]`
 * stamps), `dmesg -x` facility prefixes, `journalctl -k` (short, short-iso, short-monotonic) and syslog files
 * (`Jan 31 09:12:02 host kernel: [   13.1] ...`). Every prefix is removed so the parsers see the kernel's own text.
 */

/** One kernel message without its prefixes; `stamp` is the first timestamp found, as written. */
export interface LogLine {
  text: string;
  stamp?: string;
}

const SYSLOG_DATE =
  /^(?:[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)?)\s+/;
const HOST_KERNEL = /^\S+\s+kernel(?:\[\d+\])?:\s?/;
const BARE_KERNEL = /^kernel:\s?/;
const BRACKET_STAMP = /^\[\s*([^\]]*)\]\s?/;
const FACILITY =
  /^(?:kern|user|mail|daemon|auth|syslog|lpr|news)\s*:\s*(?:emerg|alert|crit|err|warn|notice|info|debug)\s*:\s*/;

function isKernelStamp(inner: string): boolean {
  return (
    /^\+?\d+\.\d+$/.test(inner) || // monotonic, or -H relative
    /^[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d \d{4}$/.test(inner) || // -T
    /^[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d(?::\d\d)?$/.test(inner) || // -H first line of a minute
    /^[A-Z][a-z]{2}\d{1,2} \d\d:\d\d$/.test(inner) ||
    /^\+?\d+\.\d+ <[\d.]+>$/.test(inner) // -d deltas
  );
}

/** Strip every known prefix from one line. */
export function stripLogPrefix(line: string): LogLine {
  let text = line.replace(/\s+$/, '');
  let stamp: string | undefined;
  text = text.replace(FACILITY, '');
  const date = SYSLOG_DATE.exec(text);
  if (date) {
    stamp = date[0].trim();
    text = text.slice(date[0].length);
    text = text.replace(HOST_KERNEL, '');
  }
  // journalctl -o short-monotonic: "[    3.1] host kernel: msg"
  for (let i = 0; i < 2; i++) {
    text = text.replace(BARE_KERNEL, '');
    const b = BRACKET_STAMP.exec(text);
    if (!b || !isKernelStamp((b[1] ?? '').trim())) break;
    stamp ??= (b[1] ?? '').trim();
    text = text.slice(b[0].length);
    text = text.replace(HOST_KERNEL, '');
  }
  return stamp === undefined ? { text } : { text, stamp };
}

/**
 * Split text into kernel messages. A message the kernel printed in two pieces (old AMD-Vi
 * `Event logged [` followed by the event on the next line) is joined back into one.
 */
export function kernelLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = stripLogPrefix(raw);
    const prev = out[out.length - 1];
    if (prev && /Event logged \[\s*$/.test(prev.text)) {
      prev.text = prev.text.replace(/\s*$/, '') + line.text.trim();
      continue;
    }
    out.push(line);
  }
  return out;
}
