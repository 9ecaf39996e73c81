/**
 * `pause`: wait `seconds`, or ask the operator to continue (`prompt`) once for all hosts of the task. Without a
 * terminal a prompt fails rather than waiting forever. Waits are capped at one day.
 */
import { createInterface } from 'node:readline/promises';
import { defineControllerModule } from '../define-module.js';

const MAX_SECONDS = 24 * 3600;

async function ask(prompt: string): Promise<boolean> {
  // The one prompt outside src/cli/: the operator answers on the terminal mid-run, as with Ansible's pause.
  /* eslint-disable no-restricted-properties */
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  /* eslint-enable no-restricted-properties */
  try {
    const answer = await rl.question(`${prompt}\nPress Enter to continue, or type "abort": `);
    return answer.trim().toLowerCase() !== 'abort';
  } finally {
    rl.close();
  }
}

export const pause = defineControllerModule({
  name: 'pause',
  description: 'Wait a number of seconds, or for operator approval when `prompt` is given.',
  changesHost: false,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: { seconds: { type: 'integer', minimum: 0 }, prompt: { type: 'string' } },
  },
  kind: 'controller',
  expressionOptions: [],
  async run(ctx, args) {
    const prompt = args.prompt;
    if (prompt !== undefined && args.seconds === undefined) {
      const go = await ctx.once(() => ask(prompt));
      if (!go)
        return {
          status: 'failed',
          msg: process.stdin.isTTY
            ? 'aborted by the operator'
            : 'pause with `prompt` needs a terminal; give `seconds` to wait instead',
        };
      return { status: 'ok', msg: 'continued by the operator' };
    }
    const seconds = Math.min(Math.max(0, Number(args.seconds ?? 0)), MAX_SECONDS);
    await ctx.once(() => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000)));
    return { status: 'ok', msg: `paused ${seconds} s`, data: { delta: seconds } };
  },
});
