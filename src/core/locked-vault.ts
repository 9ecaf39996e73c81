/**
 * An inline `!vault |` value that none of the run's vault passwords opens: none was given, or not the right one.
 * Ansible decrypts such a value only when something uses it, so an inventory or playbook holding one still loads
 * and lists without a password (`ansible-inventory --list` prints it as `{"__ansible_vault": data}`). rollgate does
 * the same: the value stays this object, printed and serialised as its vault data, and using it (templating it,
 * taking it as a become password) is the error decryptVault gave, at the value's file:line:col.
 */
import { formatProblem, type ConfigProblem } from './config-error.js';

export class LockedVault {
  /** Not enumerable: whatever walks a host's variables (the secret scrubber, JSON) sees only the vault data. */
  readonly #problem: ConfigProblem;

  constructor(
    /** The vault data as written (`$ANSIBLE_VAULT;1.1;AES256` and its hex lines). */
    readonly data: string,
    problem: ConfigProblem,
  ) {
    this.#problem = problem;
  }

  /** Why it cannot be used, where it is written and which option opens it. */
  get problem(): ConfigProblem {
    return this.#problem;
  }

  /**
   * Reached only where a value is turned into text without passing through the template renderer (another host's
   * variables under `hostvars`, which are raw): that is a use, so it is the vault's error there too.
   */
  toString(): string {
    throw new Error(formatProblem(this.#problem));
  }

  /** As ansible-inventory prints it (and so as a journal or a JSON report would show it): never a plaintext. */
  toJSON(): { __ansible_vault: string } {
    return { __ansible_vault: this.data };
  }
}
