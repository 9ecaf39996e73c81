/**
 * A become (sudo) password, held so that it cannot leak by accident: it is sent only to a sudo that prompts for
 * it, on the command's standard input, never on a command line; it prints, serialises and inspects as
 * `[become password]`. Every password made here is listed by `becomePasswordValues()`, which the executor adds
 * to the run's secrets, so that even a host that echoes it back has it scrubbed from events and the journal.
 */
import { inspect } from 'node:util';

const made = new Set<string>();
const SHOWN = '[become password]';

export class BecomePassword {
  readonly #value: string;

  /** `source` names where it came from, for messages: `--ask-become-pass`, `ansible_become_password`... */
  constructor(
    value: string,
    readonly source: string,
  ) {
    this.#value = value;
    made.add(value);
  }

  /** The password itself, for the one place that writes it to sudo's standard input. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return SHOWN;
  }

  toJSON(): string {
    return SHOWN;
  }

  [inspect.custom](): string {
    return SHOWN;
  }
}

/** Every become password made in this process. */
export function becomePasswordValues(): string[] {
  return [...made];
}
