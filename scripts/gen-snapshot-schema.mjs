// Writes schemas/snapshot.schema.json from the HostSnapshot type (src/modules/facts/snapshot.ts).
// `node scripts/gen-snapshot-schema.mjs --check` exits 1 when the committed schema is out of step.
import { createGenerator } from 'ts-json-schema-generator';
import { readFileSync, writeFileSync } from 'node:fs';

// Also schemas/run.schema.json (`rollgate show RUN --json`) and run-summary.schema.json (each line of `rollgate runs
// --json`) from src/render/journal-json.ts.
const targets = [
  {
    out: 'schemas/snapshot.schema.json',
    path: 'src/modules/facts/snapshot.ts',
    type: 'HostSnapshot',
    title: 'rollgate passthrough health snapshot',
  },
  {
    out: 'schemas/run.schema.json',
    path: 'src/render/journal-json.ts',
    type: 'RunDetailJson',
    title: 'rollgate show RUN --json: the run, its run-wide events, each host with its events and steps',
  },
  {
    out: 'schemas/run-summary.schema.json',
    path: 'src/render/journal-json.ts',
    type: 'RunSummaryJson',
    title: "one line of rollgate runs --json: a run and its hosts' outcomes",
  },
];
let stale = false;
for (const t of targets) {
  const schema = createGenerator({
    path: t.path,
    tsconfig: 'tsconfig.json',
    type: t.type,
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    additionalProperties: false,
    skipTypeCheck: true,
  }).createSchema(t.type);
  stableNames(schema);
  schema.$id = `https://rollgate.invalid/${t.out}`;
  schema.title = t.title;
  const text = JSON.stringify(schema, null, 2) + '\n';
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(t.out, 'utf8');
    } catch {
      // missing: out of step
    }
    if (current !== text) {
      console.error(`${t.out} is out of step with ${t.path}: run npm run schema`);
      stale = true;
    }
  } else {
    writeFileSync(t.out, text);
  }
}
if (stale) process.exit(1);

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
