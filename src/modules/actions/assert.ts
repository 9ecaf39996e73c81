/** `assert`: fail unless every expression in `that` holds (Python truthiness), naming the first that does not. */
import type { ControllerAction } from '../controller-action.js';
import { moduleSpecs } from '../specs.js';

function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

export const assert: ControllerAction<{ that: string | string[] | boolean; fail_msg?: string; success_msg?: string }> =
  {
    ...moduleSpecs.assert,
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
  };
