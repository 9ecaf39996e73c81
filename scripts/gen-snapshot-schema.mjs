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
stableNames(schema);
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

/**
 * The generator names a generic's argument by where its declaration sits in the source (`Known<def-interface-
 * 6484502-280-858-…[]>`), so any edit above it — a reformat included — renamed definitions. Give them the names
 * of what they hold (`Known<PciDevice[]>`, `Known<Record<string,string>>`), and refuse any other such name.
 */
function stableNames(schema) {
  const unstable = /(?:def-interface|def-alias|alias|structure)-[0-9-]+/;
  const renames = new Map();
  for (const [name, def] of Object.entries(schema.definitions)) {
    if (!unstable.test(name)) continue;
    const item = def.anyOf?.[0]?.properties?.value?.items?.$ref;
    let stable = name.replace(new RegExp(`${unstable.source}<`, 'g'), 'Record<');
    if (item && /^Known<def-interface-[0-9-]+\[\]>$/.test(name))
      stable = `Known<${decodeURIComponent(item.replace('#/definitions/', ''))}[]>`;
    if (/[0-9]{5,}/.test(stable) || stable in schema.definitions || [...renames.values()].includes(stable)) {
      throw new Error(
        `gen-snapshot-schema: no stable name for definition ${name}; name the type in src/modules/facts/`,
      );
    }
    renames.set(name, stable);
  }
  const left = Object.keys(schema.definitions).filter((name) => !renames.has(name) && /[0-9]{5,}/.test(name));
  if (left.length > 0)
    throw new Error(
      `gen-snapshot-schema: definitions named by source offsets: ${left.join(', ')}; name their types in src/modules/facts/`,
    );
  const refs = new Map(
    [...renames].map(([from, to]) => [
      `#/definitions/${encodeURIComponent(from)}`,
      `#/definitions/${encodeURIComponent(to)}`,
    ]),
  );
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    if (typeof node.$ref === 'string' && refs.has(node.$ref)) node.$ref = refs.get(node.$ref);
    Object.values(node).forEach(walk);
  };
  walk(schema);
  schema.definitions = Object.fromEntries(
    Object.entries(schema.definitions).map(([name, def]) => [renames.get(name) ?? name, def]),
  );
}
