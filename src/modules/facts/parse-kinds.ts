/**
 * Every saved output `rollgate facts parse KIND FILE` understands: the facts of the registry (registry.ts) that
 * name a `cli` kind, each with its parser (or the richer view its `cli` entry gives). Offline: nothing here
 * touches a host.
 */
import { factEntries } from './registry.js';

export interface ParseKind {
  description: string;
  parse(text: string): unknown;
  /** Plain-text conclusions printed above the details (not with --json), when the kind draws one. */
  summarize?(result: never): string[];
}

export const parseKinds: Record<string, ParseKind> = Object.fromEntries(
  factEntries().flatMap(([, fact]) =>
    fact.cli
      ? [
          [
            fact.cli.kind,
            {
              description: fact.cli.description,
              parse: fact.cli.parse ?? fact.parse,
              ...(fact.cli.summarize ? { summarize: fact.cli.summarize } : {}),
            },
          ],
        ]
      : [],
  ),
);

export function isParseKind(name: string): boolean {
  return Object.hasOwn(parseKinds, name);
}

/** The kind called `name`, or undefined. */
export function findParseKind(name: string): ParseKind | undefined {
  return Object.hasOwn(parseKinds, name) ? parseKinds[name] : undefined;
}
