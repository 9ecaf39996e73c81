/**
 * The collection script's sources, taken from the fact registry (registry.ts): every fact with a command whose
 * `when` applies. All of them run in one script on the host (script.ts), each in its own `sh -c` with a time
 * limit, so one missing tool or denied file costs only its own section.
 */
import type { ShellFragment } from '../../connection/shell-quote.js';
import type { SourceOptions } from './fact.js';
import { factEntries } from './registry.js';

export type { SourceOptions } from './fact.js';

export interface SourceSpec {
  name: string;
  snippet: ShellFragment;
  /** Runs in a subshell without a time limit (FactDefinition.instant). */
  instant?: boolean;
}

export function allSources(opts: SourceOptions): SourceSpec[] {
  const wanted = {
    always: true,
    passthrough: opts.passthroughIds.length > 0,
    profile: opts.profileSeconds > 0,
  };
  return factEntries().flatMap(([name, fact]) =>
    fact.command && wanted[fact.when ?? 'always']
      ? [{ name, snippet: fact.command(opts), ...(fact.instant ? { instant: true } : {}) }]
      : [],
  );
}
