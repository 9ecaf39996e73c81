/** Asking the operator for a secret at the terminal (vault and become passwords). */
import { createInterface } from 'node:readline';

/**
 * Lines read from a piped standard input and not asked for yet: one chunk may hold the answers to several prompts
 * (`printf 'vault\nsudo\n' | rollgate run -J -K ...`), and each prompt takes only its own line.
 */
let pending = '';
let ended = false;

function nextPipedLine(): Promise<string> {
  return new Promise((resolve) => {
    const take = (): boolean => {
      const nl = pending.indexOf('\n');
      if (nl < 0 && !ended) return false;
      const line = nl < 0 ? pending : pending.slice(0, nl);
      pending = nl < 0 ? '' : pending.slice(nl + 1);
      resolve(line.replace(/\r$/, ''));
      return true;
    };
    if (take()) return;
    const stdin = process.stdin;
    const done = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause(); // what is left stays in `pending`; a paused stdin lets the process exit
    };
    const onData = (chunk: Buffer | string) => {
      pending += chunk.toString();
      if (take()) done();
    };
    const onEnd = () => {
      ended = true;
      take();
      done();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

/** Read one line from the terminal without echoing it (or from standard input when it is not a terminal). */
export function promptHidden(question: string): Promise<string> {
  process.stderr.write(question);
  if (!process.stdin.isTTY) return nextPipedLine().finally(() => process.stderr.write('\n'));
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput?: (s: string) => void };
    out._writeToOutput = () => undefined; // no echo of what is typed
    rl.once('line', (line) => {
      // Resolved before close(): close() emits 'close' at once, whose handler would resolve with nothing.
      resolve(line);
      rl.close();
      process.stderr.write('\n');
    });
    rl.once('close', () => resolve(''));
  });
}
