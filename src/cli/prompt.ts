/** Asking the operator for a secret at the terminal (vault and become passwords). */
import { createInterface } from 'node:readline';

/** Read one line from the terminal without echoing it (or from standard input when it is not a terminal). */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
    const out = rl as unknown as { _writeToOutput?: (s: string) => void };
    process.stderr.write(question);
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
