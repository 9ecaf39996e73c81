/**
 * Outcome values shared by every layer: the planner's decisions, the executor's results, the events and the
 * renderers all speak of a host's end in these words, so they are declared once, below all of them.
 */

/**
 * How a host ended its turn in a change: `ok` (nothing to change), `changed`, `failed`, `unreachable`,
 * `rolled_back` (the change was undone after a failed verification) or `needs_person` (the host is in a state
 * rollgate will not guess its way out of).
 */
export type HostOutcomeStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'rolled_back' | 'needs_person';
