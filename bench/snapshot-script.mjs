#!/usr/bin/env node
// Write the collection script `rollgate snapshot` sends to each host (every source, no passthrough devices, no
// profile, 30 s per source), so the ssh2 lower bound can run exactly the same work.
//   npm run build && node bench/snapshot-script.mjs OUT_FILE
import { writeFileSync } from 'node:fs';
import { buildCollectionScript } from '../dist/modules/facts/script.js';
import { allSources } from '../dist/modules/facts/sources.js';

const [out] = process.argv.slice(2);
if (!out) throw new Error('usage: node bench/snapshot-script.mjs OUT_FILE');
writeFileSync(out, buildCollectionScript(allSources({ passthroughIds: [], profileSeconds: 0 }), 30).script.text);
