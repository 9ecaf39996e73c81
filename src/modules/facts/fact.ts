/**
 * What a fact is: the command that reads it on the host and the pure parser of that command's output, in one
 * definition (registry.ts lists them). The collection script, the snapshot and `rollgate facts parse` are all
 * derived from the definitions.
 */
import type { ShellFragment } from '../../connection/shell-quote.js';

export interface SourceOptions {
  /** vendor:device ids meant for passthrough: their lspci -vv (and their upstream bridges') is read. */
  passthroughIds: string[];
  /** Gather performance evidence (softirq, threads, perf) over this many seconds; 0 = off. */
  profileSeconds: number;
  /** libvirt connection URI for the `guests` fact (`rollgate_libvirt_uri`); default virsh's own. */
  libvirtUri?: string;
}

/** When the collection script reads a fact: always, when passthrough ids are given, or when profiling. */
export type FactWhen = 'always' | 'passthrough' | 'profile';

export interface FactDefinition<T = unknown> {
  /**
   * Shell snippet printing the raw output (parsing happens on the controller). Runs in its own `sh -c` with a
   * time limit; exit non-zero with a reason on stderr when the source is unavailable. Without a command the fact
   * is a parser of saved output only (`rollgate facts parse`).
   */
  command?: (opts: SourceOptions) => ShellFragment;
  /** Default 'always'. */
  when?: FactWhen;
  /**
   * The command only prints what the kernel holds in memory (procfs text, `uname`, `id`): it cannot block, so it
   * runs in a subshell of the collection script, without `timeout` and a new `sh` (two processes fewer, which on
   * a slow host is most of what such a section costs). Anything that reads a device, a disk or a daemon: never.
   */
  instant?: true;
  /** Pure: the output -> the fact, or null when the output is not recognised. */
  parse(text: string): T | null;
  /** Offered by `rollgate facts parse KIND FILE`: the kind's name, what output it reads, and its view if richer. */
  cli?: {
    kind: string;
    description: string;
    parse?: (text: string) => unknown;
    /** Plain-text conclusions printed above the details (not with --json), when the kind draws one. */
    summarize?: (result: never) => string[];
  };
}

/** Identity, so that each fact's parsed type is inferred. */
export function defineFact<T>(definition: FactDefinition<T>): FactDefinition<T> {
  return definition;
}
