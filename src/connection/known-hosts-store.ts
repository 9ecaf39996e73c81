/**
 * The side-effecting half of known_hosts: read each file once per run (a fleet of 100 hosts shares them) and
 * append keys accepted under accept-new. Matching is pure and lives in known-hosts.ts.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findKnownKeys, formatKnownHostsLine, type KnownHostKey } from './known-hosts.js';

/** A recorded key together with the file it came from, for messages. */
export interface KnownHostKeyIn extends KnownHostKey {
  file: string;
}

export class KnownHostsStore {
  private readonly texts = new Map<string, string>();

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
      for (const key of findKnownKeys(this.text(file), name)) keys.push({ ...key, file });
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
  }
}
