/**
 * The side-effecting half of known_hosts: read each file once per run (a fleet of 100 hosts shares them) and
 * append keys accepted under accept-new. Matching is pure and lives in known-hosts.ts.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  findKnownKeys,
  formatKnownHostsLine,
  parseKnownHosts,
  type KnownHostKey,
  type KnownHostsEntry,
} from './known-hosts.js';

/** A recorded key together with the file it came from, for messages. */
export interface KnownHostKeyIn extends KnownHostKey {
  file: string;
}

/** One file parsed once: entries by literal name, and those (wildcard, hashed) that must be tested. */
interface ParsedFile {
  byName: Map<string, KnownHostsEntry[]>;
  tested: KnownHostsEntry[];
}

function index(text: string): ParsedFile {
  const byName = new Map<string, KnownHostsEntry[]>();
  const tested: KnownHostsEntry[] = [];
  for (const entry of parseKnownHosts(text)) {
    if (!entry.literalOnly) tested.push(entry);
    else for (const name of entry.literals) byName.set(name, [...(byName.get(name) ?? []), entry]);
  }
  return { byName, tested };
}

export class KnownHostsStore {
  private readonly texts = new Map<string, string>();
  private readonly parsed = new Map<string, ParsedFile>();

  /** The file's text, '' when it does not exist. Read once, then served from memory. */
  private text(file: string): string {
    let text = this.texts.get(file);
    if (text === undefined) {
      text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      this.texts.set(file, text);
    }
    return text;
  }

  /** Every key recorded for `name` (`host` or `[host]:port`) across `files`, in file order. */
  keysFor(files: readonly string[], name: string): KnownHostKeyIn[] {
    const keys: KnownHostKeyIn[] = [];
    for (const file of files) {
      let parsed = this.parsed.get(file);
      if (!parsed) this.parsed.set(file, (parsed = index(this.text(file))));
      const found = [...(parsed.byName.get(name.toLowerCase()) ?? []), ...parsed.tested.filter((e) => e.matches(name))];
      found.sort((a, b) => a.line - b.line);
      for (const e of found)
        keys.push({ type: e.type, key: e.key, revoked: e.revoked, certAuthority: e.certAuthority, line: e.line, file });
    }
    return keys;
  }

  /** Record a key (accept-new). Creates the file 0600 and its directory 0700 like OpenSSH does. */
  append(file: string, name: string, type: string, key: string): void {
    const line = formatKnownHostsLine(name, type, key);
    const before = this.text(file);
    if (findKnownKeys(before, name).some((k) => k.key === key)) return;
    const isNew = !existsSync(file);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // A file without a final newline would glue our entry onto its last line.
    const prefix = before !== '' && !before.endsWith('\n') ? '\n' : '';
    appendFileSync(file, prefix + line, { mode: 0o600 });
    if (isNew) chmodSync(file, 0o600);
    this.texts.set(file, before + prefix + line);
    this.parsed.delete(file);
  }
}
