/** `assert`: fail unless every expression in `that` holds (Python truthiness), naming the first that does not. */
import { defineControllerModule } from '../define-module.js';
import { stringList } from '../option-schemas.js';

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

export const assert = defineControllerModule({
  name: 'assert',
  description: 'Fail unless every expression in `that` is true.',
  changesHost: false,
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['that'],
    properties: {
      that: { oneOf: [{ type: 'string' }, stringList] },
      fail_msg: { type: 'string' },
      success_msg: { type: 'string' },
    },
  },
  kind: 'controller',
  expressionOptions: ['that'],
  async run(ctx, args) {
    const conditions = (Array.isArray(args.that) ? args.that : [args.that]).map((c) =>
      typeof c === 'boolean' ? (c ? 'True' : 'False') : c,
    );
    for (const condition of conditions) {
      if (!truthy(ctx.evaluate(condition))) {
        return {
          status: 'failed',
          msg: args.fail_msg ?? `Assertion failed: ${condition}`,
          data: { assertion: condition, evaluated_to: false },
        };
      }
    }
    return { status: 'ok', msg: args.success_msg ?? 'All assertions passed' };
  },
});
