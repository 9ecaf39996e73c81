#!/usr/bin/env node
// The package's own entry point: runs the compiled CLI (npm install / npm run build produce dist/).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error('rollgate: internal error, please report:', err && err.stack ? err.stack : err);
    process.exitCode = 70;
  },
);
