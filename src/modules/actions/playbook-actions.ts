/**
 * The modules the playbook helper implements, by name: controller-only ones (debug, set_fact, fail, assert,
 * pause) and command / shell. The executor looks a module up here and in ./index.ts (the change modules).
 */
import type { ActionModule } from '../module.js';
import type { CheckModeSkips, ControllerAction } from '../controller-action.js';
import { assert } from './assert.js';
import { command } from './command.js';
import { debug } from './debug.js';
import { fail } from './fail.js';
import { pause } from './pause.js';
import { setFact } from './set-fact.js';
import { shell } from './shell.js';

// Options differ per module; the executor passes options validated against each module's schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

export type PlaybookAction = ControllerAction<Any> | (ActionModule<Any, Any> & Partial<CheckModeSkips>);

export const playbookActions: Record<string, PlaybookAction> = {
  debug,
  set_fact: setFact,
  fail,
  assert,
  pause,
  command,
  shell,
};
