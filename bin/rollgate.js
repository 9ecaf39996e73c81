#!/usr/bin/env node
// The package's own entry point: runs the compiled CLI (npm install / npm run build produce dist/).
import { main } from '../dist/cli/main.js';

// A reader that went away (`rollgate rollout ... | head`) must not end the controller mid-change: what it would
// have printed is dropped, the work and the journal go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED')) return;
    throw err;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error('rollgate: internal error, please report:', err && err.stack ? err.stack : err);
    process.exitCode = 70;
  },
);
