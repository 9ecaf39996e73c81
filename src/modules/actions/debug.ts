/** `debug`: print a message (`msg`, templated) or a variable (`var`, an expression). Touches no host. */
import type { ControllerAction } from '../controller-action.js';
import { moduleSpecs } from '../specs.js';

export const debug: ControllerAction<{ msg?: unknown; var?: string }> = {
  ...moduleSpecs.debug,
  kind: 'controller',
  expressionOptions: ['var'],
  async run(ctx, args) {
    if (args.var !== undefined) {
      const value = ctx.evaluate(args.var);
      return {
        status: 'ok',
        data: { [args.var]: value },
        msg: `${args.var}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
      };
    }
    const msg = args.msg === undefined ? 'Hello world!' : args.msg;
    return { status: 'ok', msg: typeof msg === 'string' ? msg : JSON.stringify(msg), data: { msg } };
  },
};
