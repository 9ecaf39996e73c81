/**
 * The shape of a unit of work. A fact is a command plus a pure parser; an action reads the host, decides
 * whether a change is needed (check), records how to undo it, and only then applies it.
 */
import type { Connection } from '../connection/connection.js';
import type { RollgateEvent } from '../events/events.js';

/** JSON Schema fragment for a module's options (drives validation, the playbook schema and --help). */
export type OptionsSchema = {
  type: 'object';
  properties: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  required?: readonly string[];
  additionalProperties?: false;
  /** Extra JSON Schema keywords (oneOf, anyOf, ...). */
  [keyword: string]: unknown;
};

/** What the play says about a module: its name, a one-line description and its options. */
export interface ModuleSpec {
  name: string;
  description: string;
  options: OptionsSchema;
  /** Whether the module changes hosts (false for facts, assert, debug ...). */
  changesHost: boolean;
}

/** Everything a module may use while it runs on one host. */
export interface ModuleContext {
  conn: Connection;
  host: string;
  /** Variables visible to the task (inventory, play vars, registered results), already templated. */
  vars: Record<string, unknown>;
  /** Check mode: compute, never change. */
  checkMode: boolean;
  emit(event: RollgateEvent): void;
  /**
   * Close the current connection and open a new one to the same host (a full SSH login); later tasks use the
   * new one. Needed by `reboot`; a runner that cannot reconnect leaves it out and `reboot` fails.
   */
  reconnect?(): Promise<Connection>;
}

/**
 * A module refusing or failing on a host (bad value, wrong CPU vendor, a command that failed). Thrown from
 * check/apply; the runner turns it into a failed step. `retryable` says whether trying again can help.
 */
export class ModuleFailure extends Error {
  override readonly name = 'ModuleFailure';
  constructor(
    message: string,
    readonly retryable: boolean = false,
    /** Exit status and stderr tail of the command that failed, when one did. */
    readonly command?: { exitCode: number | null; stderrTail: string },
  ) {
    super(message);
  }
}

/** A file as it was before a change: enough to restore it byte for byte. */
export interface FileBackup {
  path: string;
  /** null when the file did not exist (undo deletes it). */
  contentBase64: string | null;
  mode?: number;
  uid?: number;
  gid?: number;
}

/**
 * How to undo one change, recorded in the journal before the change is applied. Undo runs each part by what it
 * assumes (see undo.ts): file bytes, created directories and `restore` commands whatever became of the step;
 * `rebuild` for an applied step, or for an unfinished one whose restored files changed; `reverse` only for an
 * applied step.
 */
export interface UndoRecord {
  files: FileBackup[];
  /** Directories the change creates (parents first); undo removes them when empty, deepest first. */
  createdDirs?: string[];
  /**
   * Re-derivations: idempotent commands that rebuild what is derived from the files on disk (update-grub,
   * update-initramfs -u ...), in order. They assume nothing about the step, only the files.
   */
  rebuild: string[];
  /**
   * Reversals: commands that take back what the change did and assume it happened (the `undo:` of command /
   * shell, removing an installed package, releasing a device bound at runtime), in order.
   */
  reverse?: string[];
  /**
   * Restores: commands that put back what the step itself set aside, guarded so they do nothing when it never got
   * that far and verified like a file restore (a copied-aside initramfs image), in order.
   */
  restore?: string[];
  /** Module-specific extra state (previous default boot entry, installed kernel set ...). */
  extra?: Record<string, unknown>;
}

/** What check mode shows and the real run applies. */
export interface ChangePreview {
  summary: string;
  files: Array<{ path: string; before: string | null; after: string | null }>;
  commands: string[];
}

export type CheckOutcome<C = unknown> =
  | { status: 'no_change'; reason: string }
  | { status: 'change'; change: C; preview: ChangePreview; undo: UndoRecord; rebootRequired?: boolean };

export interface ActionModule<Args = Record<string, unknown>, C = unknown> extends ModuleSpec {
  check(ctx: ModuleContext, args: Args): Promise<CheckOutcome<C>>;
  apply(ctx: ModuleContext, args: Args, change: C): Promise<{ message: string; data?: Record<string, unknown> }>;
}
