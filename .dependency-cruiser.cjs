/**
 * Which src/ folder may import which (docs/architecture.md draws the same picture). Run by `npm run lint:deps`
 * (part of `npm run lint`, part of `npm test`): an import that breaks a rule fails the build.
 *
 * Every folder may import itself, core/ and events/ (core/ imports nothing of ours, events/ only core/), and any
 * node: or npm module. Beyond that, each folder lists what it may import; the lists form a stack with no way back
 * up, so no two folders can import each other, directly or through others. Nothing imports cli/ (the composition
 * root) or render/ (a consumer of events), except cli/. connection/ receives a finished SshTarget: it imports
 * nothing of ours but core/ and events/.
 */

/** folder -> the folders (beyond itself, core/ and events/) it may import; '*' is every folder. */
const mayImport = {
  cli: ['*'],
  render: ['load', 'plan', 'strategy', 'template', 'journal', 'modules', 'connection'],
  lab: ['power', 'connection'],
  executor: [
    'strategy',
    'plan',
    'targets',
    'load',
    'template',
    'trial-boot',
    'modules',
    'journal',
    'secrets',
    'power',
    'connection',
  ],
  'trial-boot': ['modules', 'connection'],
  plan: ['load', 'strategy'],
  targets: ['load', 'template', 'power', 'connection'],
  load: ['template', 'modules', 'strategy'],
  // serial, the stop threshold, canaries, batches: pure, read by load/ (serial at load time) and plan/
  strategy: [],
  template: [],
  journal: ['modules', 'secrets'],
  modules: ['connection'],
  secrets: [],
  power: [],
  connection: [],
  events: [],
  core: [],
};

// The lists must leave no way back up: refuse a config whose allowed imports could close a cycle of folders.
const shared = (folder) => (folder === 'core' ? [] : folder === 'events' ? ['core'] : ['core', 'events']);
const allowed = (folder) => (mayImport[folder].includes('*') ? [] : [...mayImport[folder], ...shared(folder)]);
const visiting = new Set();
const done = new Set();
const visit = (folder, path) => {
  if (done.has(folder)) return;
  if (visiting.has(folder))
    throw new Error(`.dependency-cruiser.cjs: the allowed imports form a cycle: ${[...path, folder].join(' -> ')}`);
  visiting.add(folder);
  for (const next of allowed(folder)) visit(next, [...path, folder]);
  visiting.delete(folder);
  done.add(folder);
};
Object.keys(mayImport).forEach((folder) => visit(folder, []));

const own = (folder) => [folder, ...shared(folder)];

const layerRules = Object.entries(mayImport)
  .filter(([, may]) => !may.includes('*'))
  .map(([folder, may]) => ({
    name: `layer-${folder}`,
    comment:
      `src/${folder}/ may import only ` +
      [...new Set([...own(folder), ...may])].map((f) => `${f}/`).join(', ') +
      ' of src/ (see docs/architecture.md)',
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: `^src/(${[...own(folder), ...may].join('|')})/` },
  }));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'sqlite-only-in-journal',
      comment:
        "the journal database and the shared fleet lock are src/journal/'s: no SQL, no better-sqlite3 and no pg (nor pg-native, libpq) outside it (call a Journal method; add " +
        'one there if none fits). ESLint refuses SQL text and `.db` outside src/journal/ as well.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/journal/' },
      to: { path: '(^|/)node_modules/(better-sqlite3|pg|pg-native|libpq)/|^(better-sqlite3|pg|pg-native|libpq)$' },
    },
    {
      name: 'no-unknown-folder',
      comment: 'every file of src/ sits in a folder the layer rules know: add a new folder to .dependency-cruiser.cjs',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: `^src/(${Object.keys(mayImport).join('|')})/` },
    },
    {
      name: 'no-unknown-folder-imports',
      comment: 'every file of src/ sits in a folder the layer rules know: add a new folder to .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${Object.keys(mayImport).join('|')})/` },
      to: { path: '^src/' },
    },
    {
      name: 'no-circular',
      comment:
        'modules must not import each other in a circle, not even inside one folder (a cycle closed only by an ' +
        '`import type` is erased at compile time and allowed inside a folder; the layer rules count type imports)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to no file',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports tie layers together as much as value imports do
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
