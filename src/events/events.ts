/**
 * Every event rollgate emits, as one discriminated union. Renderers (listr2, plain, JSON lines) and the journal
 * consume these; nothing that produces them prints. Events never carry secrets.
 */

/** Milliseconds since the epoch. */
export type Timestamp = number;

/** How one host ended in a fleet run (src/executor/fleet.ts). */
export type HostStatus = 'ok' | 'failed' | 'unreachable';

export type RollgateEvent =
  /** A fleet run begins: every host it will contact, and how many at once. */
  | { type: 'fleet.started'; at: Timestamp; hosts: string[]; forks: number }
  /** Counts of host outcomes and wall time of the whole run. */
  | { type: 'fleet.finished'; at: Timestamp; ok: number; failed: number; unreachable: number; ms: number }
  /** A host's work is over. kind says why it failed (a ConnectionFailureKind, 'command' or 'error'). */
  | { type: 'host.finished'; at: Timestamp; host: string; status: HostStatus; kind?: string; message?: string; ms: number }
  /** What an ad-hoc command printed (rollgate exec); never emitted for module commands. */
  | { type: 'command.output'; at: Timestamp; host: string; stdout: string; stderr: string; exitCode: number | null; signal?: string }
  | { type: 'host.connecting'; at: Timestamp; host: string }
  | { type: 'host.connected'; at: Timestamp; host: string; ms: number }
  | { type: 'host.failed'; at: Timestamp; host: string; kind: string; message: string }
  | { type: 'command.started'; at: Timestamp; host: string; command: string }
  | { type: 'command.finished'; at: Timestamp; host: string; exitCode: number | null; ms: number };

export type EventListener = (event: RollgateEvent) => void;

/** A tiny synchronous bus: producers call emit, consumers subscribe. */
export class EventBus {
  private listeners: EventListener[] = [];
  on(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
  emit(event: RollgateEvent): void {
    for (const l of this.listeners) l(event);
  }
}
