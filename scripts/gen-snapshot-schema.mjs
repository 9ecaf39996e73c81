// Writes schemas/snapshot.schema.json from the HostSnapshot type (src/modules/facts/snapshot.ts).
// `node scripts/gen-snapshot-schema.mjs --check` exits 1 when the committed schema is out of step.
import { createGenerator } from 'ts-json-schema-generator';
import { readFileSync, writeFileSync } from 'node:fs';

const out = 'schemas/snapshot.schema.json';
const schema = createGenerator({
  path: 'src/modules/facts/snapshot.ts',
  tsconfig: 'tsconfig.json',
  type: 'HostSnapshot',
  expose: 'export',
  topRef: true,
  jsDoc: 'extended',
  additionalProperties: false,
  skipTypeCheck: true,
}).createSchema('HostSnapshot');
schema.$id = 'https://rollgate.invalid/schemas/snapshot.schema.json';
schema.title = 'rollgate passthrough health snapshot';
const text = JSON.stringify(schema, null, 2) + '\n';
if (process.argv.includes('--check')) {
  const current = readFileSync(out, 'utf8');
  if (current !== text) {
    console.error(`${out} is out of step with src/modules/facts/snapshot.ts: run npm run schema`);
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
}
