/** `fail`: fail the host with a message (usually under `when:`). */
import type { ControllerAction } from '../controller-action.js';
import { moduleSpecs } from '../specs.js';

export const fail: ControllerAction<{ msg?: string }> = {
  ...moduleSpecs.fail,
  kind: 'controller',
  expressionOptions: [],
  async run(_ctx, args) {
    return { status: 'failed', msg: args.msg ?? 'Failed as requested from task' };
  },
};
