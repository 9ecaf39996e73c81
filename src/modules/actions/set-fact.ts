/**
 * `set_fact`: set host variables for later tasks (and later plays of the run). The values are templated once,
 * when the task runs, and are data from then on: they rank with registered results, above play and task vars.
 */
import { defineControllerModule } from '../define-module.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const setFact = defineControllerModule({
  name: 'set_fact',
  description: 'Set host variables for later tasks.',
  changesHost: false,
  options: { type: 'object', properties: {} },
  kind: 'controller',
  expressionOptions: [],
  async run(_ctx, args) {
    const bad = Object.keys(args).filter((k) => !NAME.test(k) || k === '__proto__');
    if (bad.length > 0)
      return { status: 'failed', msg: `set_fact: invalid variable name ${bad.map((b) => `\`${b}\``).join(', ')}` };
    if (Object.keys(args).length === 0) return { status: 'failed', msg: 'set_fact needs at least one variable' };
    return { status: 'ok', facts: { ...args }, data: { ansible_facts: { ...args } } };
  },
});
