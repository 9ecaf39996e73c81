/** `debug`: print a message (`msg`, templated) or a variable (`var`, an expression). Touches no host. */
import { defineControllerModule } from '../define-module.js';

export const debug = defineControllerModule({
  name: 'debug',
  description: 'Print a message or a variable.',
  changesHost: false,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: { msg: {}, var: { type: 'string' } },
  },
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
});
