/**
 * Inventory host patterns as Ansible reads them: an optional `:port` suffix (`hv01:2222`, `[fe80::1]:22`) and
 * `[begin:end(:step)]` ranges (`hv[01:20].example`, `rack-[a:f]`, `hv[01:20:2]`), several per name.
 *
 * Port splitting follows ansible.parsing.utils.addresses.parse_address exactly (the port is only split off when
 * what is left is a valid IPv4/IPv6 address or host name, ranges allowed). Range expansion follows
 * ansible.inventory.expand_hostname_range, but is stricter: a range Ansible would silently expand to nothing
 * (`hv[20:01]`) is an error here, since an inventory that names no hosts is never what was meant.
 */

/** The names a host pattern stands for, and the port it carries (undefined when none was written). */
export type HostPatternResult = { names: string[]; port?: number } | { error: string; hint: string };

const numericRange = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const hexRange = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const alnumRange = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const v6 = `(?:[0-9a-f]{1,4}|${hexRange})`;
const v4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`;
// Python's \w with re.UNICODE: letters, digits (any script) and underscore.
const label = `(?:[\\p{L}\\p{N}_]|${alnumRange})(?:[\\p{L}\\p{N}_-]|${alnumRange})*(?<![_-])`;

const patterns = {
  bracketedHostPort: /^\[(.+)\]:([0-9]+)$/u,
  hostPort: /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/u,
  ipv4: new RegExp(`^(?:${v4}\\.){3}${v4}$`, 'iu'),
  ipv6: new RegExp(
    '^(?:' +
      [
        `(?:${v6}:){7}${v6}`,
        `(?:${v6}:){1,6}:`,
        `(?:${v6}:)(?::${v6}){1,6}`,
        `(?:${v6}:){2}(?::${v6}){1,5}`,
        `(?:${v6}:){3}(?::${v6}){1,4}`,
        `(?:${v6}:){4}(?::${v6}){1,3}`,
        `(?:${v6}:){5}(?::${v6}){1,2}`,
        `(?:${v6}:){6}(?::${v6})`,
        `:(?::${v6}){1,6}`,
        `${v6}?::`,
        `(?:0:){6}(?:${v6}\\.){3}${v6}`,
        `::(?:ffff:)?(?:${v6}\\.){3}${v6}`,
        `(?:0:){5}ffff:(?:${v6}\\.){3}${v6}`,
      ].join('|') +
      ')$',
    'iu',
  ),
  hostname: new RegExp(`^${label}(?:\\.${label})*$`, 'iu'),
};

/** Split `host:port` as Ansible's parse_address does; undefined when `address` is not a recognisable host. */
export function parseAddress(address: string): { host: string; port?: number } | undefined {
  let rest = address;
  let port: number | undefined;
  for (const re of [patterns.bracketedHostPort, patterns.hostPort]) {
    const m = re.exec(rest);
    if (m) {
      rest = m[1] ?? '';
      port = Number(m[2]);
    }
  }
  const valid = patterns.ipv4.test(rest) || patterns.ipv6.test(rest) || patterns.hostname.test(rest);
  return valid ? { host: rest, ...(port === undefined ? {} : { port }) } : undefined;
}

const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Most hosts one pattern may stand for: a bigger range is almost always a typo (`hv[00000001:99999999]`). */
export const MAX_RANGE_HOSTS = 10_000;

/** How many names the ranges of `name` stand for (a bound that is not a number or a letter counts as 1). */
function rangeCount(name: string): number {
  let total = 1;
  for (const m of name.matchAll(/\[([^\]:]*):([^\]:]*)(?::([0-9]+))?\]/g)) {
    const [, a = '', b = '', step = '1'] = m;
    const span =
      /^[0-9]*$/.test(a) && /^[0-9]+$/.test(b) ? Number(b) - Number(a || '0') : letters.indexOf(b) - letters.indexOf(a);
    total *= Math.max(1, Math.floor(Math.max(0, span) / Math.max(1, Number(step))) + 1);
  }
  return total;
}

/** Expand every `[begin:end(:step)]` range in `name`, left to right; at most MAX_RANGE_HOSTS names. */
export function expandRanges(name: string): string[] | { error: string; hint: string } {
  const count = rangeCount(name);
  if (count > MAX_RANGE_HOSTS) {
    return {
      error: `host pattern \`${name}\` stands for ${count} hosts; rollgate expands at most ${MAX_RANGE_HOSTS} from one pattern`,
      hint: 'check the bounds of the range, or split it into several patterns',
    };
  }
  return expandWithin(name);
}

function expandWithin(name: string): string[] | { error: string; hint: string } {
  const open = name.indexOf('[');
  if (open < 0) return [name];
  const close = name.indexOf(']', open);
  if (close < 0)
    return {
      error: `unclosed \`[\` in host pattern \`${name}\``,
      hint: 'write a range as `[01:20]`, or remove the `[`',
    };
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    return {
      error: `host range \`[${bounds.join(':')}]\` in \`${name}\` must be begin:end or begin:end:step`,
      hint: 'write e.g. `hv[01:20]` or `hv[01:20:2]`',
    };
  }
  const [beg0 = '', end = '', stepText = '1'] = bounds;
  const beg = beg0 === '' ? '0' : beg0;
  const where = `host range \`[${bounds.join(':')}]\` in \`${name}\``;
  if (end === '') return { error: `${where} has no end value`, hint: 'write e.g. `[01:20]`' };
  if (!/^[0-9]+$/.test(stepText) || Number(stepText) < 1)
    return { error: `${where} has step \`${stepText}\``, hint: 'the step must be a whole number of at least 1' };
  const step = Number(stepText);
  let seq: string[];
  if (/^[0-9]+$/.test(beg) && /^[0-9]+$/.test(end)) {
    const padded = beg.length > 1 && beg.startsWith('0');
    if (padded && beg.length !== end.length) {
      return {
        error: `${where} has begin and end of different widths`,
        hint: `write both with ${beg.length} digits, e.g. \`[${beg}:${end.padStart(beg.length, '0')}]\``,
      };
    }
    const from = Number(beg);
    const to = Number(end);
    if (from > to)
      return {
        error: `${where} counts down and names no host`,
        hint: `write the smaller bound first: \`[${end}:${beg}]\``,
      };
    seq = [];
    for (let i = from; i <= to; i += step) seq.push(padded ? String(i).padStart(beg.length, '0') : String(i));
  } else if (beg.length === 1 && end.length === 1 && letters.includes(beg) && letters.includes(end)) {
    const from = letters.indexOf(beg);
    const to = letters.indexOf(end);
    if (from > to)
      return {
        error: `${where} counts down and names no host`,
        hint: `write the earlier letter first: \`[${end}:${beg}]\``,
      };
    seq = [];
    for (let i = from; i <= to; i += step) seq.push(letters[i] ?? '');
  } else {
    return {
      error: `${where} is neither numeric nor a single-letter range`,
      hint: 'write numbers (`[01:20]`) or single letters (`[a:f]`)',
    };
  }
  const names: string[] = [];
  for (const part of seq) {
    const expanded = expandWithin(head + part + tail);
    if (!Array.isArray(expanded)) return expanded;
    names.push(...expanded);
  }
  return names;
}

/** The host names and port a pattern from an inventory stands for (Ansible's _expand_hostpattern). */
export function expandHostPattern(pattern: string): HostPatternResult {
  const parsed = parseAddress(pattern);
  const base = parsed ? parsed.host : pattern;
  const names = base.includes('[') ? expandRanges(base) : [base];
  if (!Array.isArray(names)) return names;
  return parsed?.port === undefined ? { names } : { names, port: parsed.port };
}
