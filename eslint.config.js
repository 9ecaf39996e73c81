// ESLint (flat config): typescript-eslint's recommended rules plus the house rules of /work/shared/STYLE.md that a
// linter can see. Not type-aware on purpose: `npm run lint` runs in every `npm test` and must take seconds.
// Formatting is Prettier's job (.prettierrc.json); import directions are dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** No SQL outside src/journal/: the rest of src/ reaches the journal's tables through its methods. */
const sqlOutsideJournal = [
  {
    selector: "MemberExpression[property.name='db']",
    message: "the journal database is src/journal/'s: call a Journal method (add one there if none fits)",
  },
  ...['arguments.0.value', 'arguments.0.quasis.0.value.raw'].map((text) => ({
    selector: `CallExpression[callee.property.name=/^(prepare|exec|pragma)$/][${text}=/\\b(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA)\\b/i]`,
    message: 'SQL belongs in src/journal/: call a Journal method (add one there if none fits)',
  })),
];

/** The fleet lock is chosen by the composition root (cli/session.ts) and passed in, not taken from the journal. */
const lockFromJournal = {
  selector: "CallExpression[callee.property.name='fleetLock']",
  message: 'take the FleetLock as an input: cli/session.ts (sessionFleetLock) chooses it and passes it to the executor',
};

/** Bad operator input is a ConfigError with file:line:col and a fix (exit 2); a plain Error ends as exit 70. */
const plainError = {
  selector: "NewExpression[callee.name='Error']",
  message:
    'input problems are a ConfigError (src/core/config-error.ts: position, message, hint; exit 2), an option ' +
    "parser's a commander InvalidArgumentError (exit 2); a bug is an InternalError (src/core/internal-error.ts)",
};

/** Local processes on the controller run through zx (issue 17): its `$` quotes, captures, times out and kills. */
const byHandProcesses = ['node:child_process', 'child_process'].map((name) => ({
  name,
  message:
    "run local commands through zx's `$` (see src/power/ipmi.ts); only a long-lived daemon whose ChildProcess is " +
    'kept may spawn by hand, with an eslint-disable line saying why',
}));

/** Only cli/ (and the renderers it drives) prints or sets the exit status. */
const notHere = 'print from src/cli/ or src/render/: emit an event or return a value instead';
const printing = [
  { object: 'process', property: 'stdout', message: notHere },
  { object: 'process', property: 'stderr', message: notHere },
  { object: 'process', property: 'exit', message: 'the exit status is set by src/cli/ only (src/cli/exit-codes.ts)' },
  {
    object: 'process',
    property: 'exitCode',
    message: 'the exit status is set by src/cli/ only (src/cli/exit-codes.ts)',
  },
];

export default defineConfig(
  {
    ignores: [
      'dist/',
      'coverage/',
      'node_modules/',
      'test/fixtures/',
      'bench/results/',
      'bench/ansible/',
      '.lab/',
      '.rollgate/',
      '.local-fleet/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_name` says "deliberately unused" (a parameter an interface requires, a tuple slot)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // `cond && act()` as a statement is a house idiom
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // terminal escapes, NUL and the other control characters are matched on purpose (scrubbing, lexing, parsing)
      'no-control-regex': 'off',
    },
  },
  {
    // tests poke at parsed JSON and recorded events
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // A budget, not a ban: `npm run lint` allows at most the count of today (--max-warnings in package.json);
      // lower it when you remove some, never raise it. Each `!` undoes what noUncheckedIndexedAccess buys.
      '@typescript-eslint/no-non-null-assertion': 'warn',
      'no-restricted-syntax': ['error', ...sqlOutsideJournal, lockFromJournal],
      'no-restricted-properties': ['error', ...printing],
      'no-restricted-globals': ['error', { name: 'console', message: notHere }],
      'no-restricted-imports': ['error', { paths: byHandProcesses }],
    },
  },
  {
    files: ['src/load/**/*.ts', 'src/cli/**/*.ts', 'src/targets/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...sqlOutsideJournal, plainError] },
  },
  {
    files: ['src/journal/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/cli/**/*.ts', 'src/render/**/*.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-globals': 'off' },
  },
);
