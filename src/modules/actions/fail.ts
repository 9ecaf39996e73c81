/** `fail`: fail the host with a message (usually under `when:`). */
import { defineControllerModule } from '../define-module.js';

export const fail = defineControllerModule({
  name: 'fail',
  description: 'Fail the host with a message.',
  changesHost: false,
  options: { type: 'object', additionalProperties: false, properties: { msg: { type: 'string' } } },
  kind: 'controller',
  expressionOptions: [],
  async run(_ctx, args) {
    return { status: 'failed', msg: args.msg ?? 'Failed as requested from task' };
  },
});
