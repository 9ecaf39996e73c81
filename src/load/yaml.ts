/**
 * YAML loading with positions: the value (YAML 1.1 rules, as Ansible's PyYAML reads them: `yes`/`on` are
 * booleans) plus a map from each node's path to where it starts, so every later error can name file:line:col.
 */
import {
  CHOMPING_MODE,
  EVENT_ID,
  SCALAR_STYLE,
  NOT_RESOLVED,
  Schema,
  YAML11_SCHEMA,
  YAMLException,
  boolYaml11Tag,
  defineScalarTag,
  getScalarValue,
  loadAll,
  parseEvents,
  type Event,
  type ScalarEvent,
} from 'js-yaml';
import { ConfigError, type SourcePosition } from '../core/config-error.js';
import { LockedVault } from '../core/locked-vault.js';
import { scalarOffset } from './yaml-scalar-offset.js';
import { expandsTooFar, MAX_EXPANDED_VALUES } from '../core/expanded-size.js';
import { checkInputSize, readInputFile } from './input-file.js';
import { decryptVault, rememberInlineVault, rememberVaultValues, wasVaulted } from './vault.js';

// PyYAML (and so Ansible) reads only these as booleans; YAML 1.1's y/Y/n/N stay strings (`y: 1` is the key "y").
const pyyamlBooleans = new Map<string, boolean>(
  ['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']
    .map((s) => [s, true] as [string, boolean])
    .concat(['no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((s) => [s, false])),
);
const pyyamlBoolTag = defineScalarTag('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: ['y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O'],
  resolve: (source: string) => pyyamlBooleans.get(source) ?? NOT_RESOLVED,
  identify: (object: unknown) => typeof object === 'boolean',
  represent: (object: unknown) => (object ? 'true' : 'false'),
});
/** An inline `!vault |` value as loaded; parseYaml replaces it with its plaintext (or a positioned error). */
class VaultedScalar {
  constructor(readonly data: string) {}
}
const vaultTag = defineScalarTag('!vault', {
  resolve: (source: string) => new VaultedScalar(source),
  identify: (object: unknown) => object instanceof VaultedScalar,
  represent: (object: unknown) => (object as VaultedScalar).data,
});
/** YAML 1.1 as PyYAML resolves it, which is what Ansible reads, plus Ansible's `!vault` tag. */
const ANSIBLE_YAML_SCHEMA = new Schema([
  ...YAML11_SCHEMA.tags.map((t) => (t === boolYaml11Tag ? pyyamlBoolTag : t)),
  vaultTag,
]);

/**
 * Replace every inline vault value under `value` with its plaintext, remembered as a secret; one that no vault
 * password given opens stays a LockedVault (listed as its vault data, an error only where it is used), as Ansible
 * loads it.
 */
function openInlineVaults(value: unknown, path: YamlPath, doc: YamlDocument, depth = 0): unknown {
  if (value instanceof VaultedScalar) {
    try {
      const plain = decryptVault(value.data, doc.positionOf(path));
      rememberInlineVault(plain, value.data);
      return plain;
    } catch (err) {
      if (!(err instanceof ConfigError) || !err.problems[0]) throw err;
      return new LockedVault(value.data, err.problems[0]);
    }
  }
  if (depth > 64 || value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = openInlineVaults(value[i], [...path, i], doc, depth + 1);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) obj[key] = openInlineVaults(obj[key], [...path, key], doc, depth + 1);
  return value;
}

/** A path into a YAML document: mapping keys and sequence indices. */
export type YamlPath = ReadonlyArray<string | number>;

export interface YamlDocument {
  file: string;
  value: unknown;
  /** Position of the value at `path`, or of its key when `of` is 'key'; falls back to the nearest ancestor. */
  positionOf(path: YamlPath, of?: 'key' | 'value'): SourcePosition;
  /** Position of character `index` of the string at `path`; the string's start when it cannot be known exactly. */
  positionIn(path: YamlPath, index: number): SourcePosition;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function toPosition(file: string, starts: number[], offset: number): SourcePosition {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

function eventStart(e: Event): number {
  switch (e.type) {
    case EVENT_ID.SCALAR:
      return e.anchorStart >= 0 ? e.anchorStart : e.tagStart >= 0 ? e.tagStart : e.valueStart;
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return e.anchorStart >= 0 ? e.anchorStart : e.tagStart >= 0 ? e.tagStart : e.start;
    case EVENT_ID.ALIAS:
      return e.anchorStart;
    default:
      return 0;
  }
}

type Frame =
  | { kind: 'map'; path: string[] | (string | number)[]; pendingKey: string | null; keyOffset: number }
  | { kind: 'seq'; path: (string | number)[]; index: number };

/** Offsets of every node of the first document, keyed by JSON of its path ('v' value, 'k' key); scalars by 's'. */
function indexPositions(
  text: string,
  file: string,
): { offsets: Map<string, number>; scalars: Map<string, ScalarEvent> } {
  const offsets = new Map<string, number>();
  const scalars = new Map<string, ScalarEvent>();
  const events = parseEvents(text, { filename: file });
  const stack: Frame[] = [];
  let docs = 0;
  const place = (start: number): (string | number)[] | null => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    if (top.kind === 'seq') return [...top.path, top.index++];
    if (top.pendingKey === null) return null; // this node is a key
    const path = [...top.path, top.pendingKey];
    offsets.set('k' + JSON.stringify(path), top.keyOffset);
    top.pendingKey = null;
    void start;
    return path;
  };
  for (const e of events) {
    if (e.type === EVENT_ID.DOCUMENT) {
      if (++docs > 1) break;
      continue;
    }
    if (e.type === EVENT_ID.POP) {
      stack.pop();
      continue;
    }
    const start = eventStart(e);
    const path = place(start);
    if (path === null) {
      // A mapping key: remember it; complex keys are stringified crudely (they are rare in our inputs).
      const top = stack[stack.length - 1] as Extract<Frame, { kind: 'map' }>;
      top.pendingKey = e.type === EVENT_ID.SCALAR ? getScalarValue(text, e) : `<${start}>`;
      top.keyOffset = start;
      if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE)
        stack.push({ kind: 'seq', path: ['<key>'], index: 0 });
      continue;
    }
    // An empty value (`key:` with nothing after it) has no start of its own: place it at its key.
    const keyed = offsets.get('k' + JSON.stringify(path));
    if (start >= 0 || keyed !== undefined)
      offsets.set('v' + JSON.stringify(path), start >= 0 ? start : (keyed as number));
    if (e.type === EVENT_ID.SCALAR) scalars.set(JSON.stringify(path), e);
    if (e.type === EVENT_ID.MAPPING) stack.push({ kind: 'map', path, pendingKey: null, keyOffset: 0 });
    else if (e.type === EVENT_ID.SEQUENCE) stack.push({ kind: 'seq', path, index: 0 });
  }
  return { offsets, scalars };
}

/**
 * Parse YAML text; a syntax error becomes a ConfigError naming file:line:col. A document larger than the input
 * limit, or expanding through aliases to more than MAX_EXPANDED_VALUES values, is refused: `what` names it.
 */
export function parseYaml(text: string, file: string, what = 'this file'): YamlDocument {
  checkInputSize(text, file);
  let docs: unknown[];
  let offsets: Map<string, number>;
  let scalars: Map<string, ScalarEvent>;
  try {
    docs = loadAll(text, { filename: file, schema: ANSIBLE_YAML_SCHEMA });
    ({ offsets, scalars } = indexPositions(text, file));
  } catch (err) {
    if (err instanceof YAMLException) {
      const mark = err.mark;
      throw new ConfigError([
        {
          position: { file, line: (mark?.line ?? 0) + 1, column: (mark?.column ?? 0) + 1 },
          message: `YAML syntax error: ${err.reason}`,
          hint: yamlHint(err.reason),
        },
      ]);
    }
    throw err;
  }
  if (docs.length > 1) {
    throw new ConfigError([
      {
        position: { file, line: 1, column: 1 },
        message: 'more than one YAML document (---) in one file',
        hint: 'keep one document per file',
      },
    ]);
  }
  if (expandsTooFar(docs[0])) {
    throw new ConfigError([
      {
        position: { file, line: 1, column: 1 },
        message: `${what} expands to more than ${MAX_EXPANDED_VALUES} values (YAML aliases that repeat aliases?)`,
        hint: 'write the values out, or use fewer nested aliases',
      },
    ]);
  }
  const starts = lineStarts(text);
  const doc: YamlDocument = {
    file,
    value: docs[0] ?? null,
    positionIn(path, index) {
      const scalar = scalars.get(JSON.stringify(path));
      const offset = scalar ? scalarOffset(text, scalar, index) : undefined;
      return offset === undefined ? doc.positionOf(path) : toPosition(file, starts, offset);
    },
    positionOf(path, of = 'value') {
      for (let n = path.length; n >= 0; n--) {
        const sub = path.slice(0, n);
        const key = (n === path.length && of === 'key' ? 'k' : 'v') + JSON.stringify(sub);
        const off =
          offsets.get(key) ?? (n === path.length && of === 'key' ? offsets.get('v' + JSON.stringify(sub)) : undefined);
        if (off !== undefined) return toPosition(file, starts, off);
      }
      return { file, line: 1, column: 1 };
    },
  };
  doc.value = finalBreakAsPyYaml(text, doc.value, scalars);
  if (text.includes('!vault')) doc.value = openInlineVaults(doc.value, [], doc);
  if (wasVaulted(file)) rememberVaultValues(doc.value);
  return doc;
}

/**
 * js-yaml reads a file without a final line break as if it had one, so a block scalar (`|`, `>`, clip or keep)
 * that ends the file gets a `\n` the file does not have; PyYAML, which Ansible uses, gives it none. Take it off
 * that one scalar (the one whose text ends the file).
 */
function finalBreakAsPyYaml(text: string, value: unknown, scalars: Map<string, ScalarEvent>): unknown {
  if (text === '' || text.endsWith('\n') || text.endsWith('\r')) return value;
  let last: [string, ScalarEvent] | undefined;
  for (const entry of scalars) if (!last || entry[1].valueEnd > last[1].valueEnd) last = entry;
  if (!last) return value;
  const [key, e] = last;
  const block = e.style === SCALAR_STYLE.LITERAL_BLOCK || e.style === SCALAR_STYLE.FOLDED_BLOCK;
  if (!block || e.chomping === CHOMPING_MODE.STRIP || text.slice(e.valueEnd).trim() !== '') return value;
  const trim = (v: unknown): unknown =>
    typeof v === 'string' && v.endsWith('\n')
      ? v.slice(0, -1)
      : v instanceof VaultedScalar && v.data.endsWith('\n')
        ? new VaultedScalar(v.data.slice(0, -1))
        : v;
  const path = JSON.parse(key) as YamlPath;
  if (path.length === 0) return trim(value);
  let parent: unknown = value;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, unknown> | null)?.[step];
  const leaf = path[path.length - 1] as string | number;
  if (parent !== null && typeof parent === 'object')
    (parent as Record<string | number, unknown>)[leaf] = trim((parent as Record<string | number, unknown>)[leaf]);
  return value;
}

function yamlHint(reason: string): string | undefined {
  if (/tab/i.test(reason)) return 'indent with spaces, not tabs';
  if (/indentation/i.test(reason)) return 'align this line with its siblings (same number of leading spaces)';
  if (/duplicated mapping key/i.test(reason))
    return 'each key may appear once per mapping; remove or rename the repeated key';
  if (/end of the stream|unexpected end/i.test(reason)) return 'close the open quote or bracket';
  return undefined;
}

/** Read and parse a YAML (or JSON) input file: a regular file within the input size limit. */
export function loadYamlFile(file: string, what = 'this file', label = file): YamlDocument {
  return parseYaml(readInputFile(file, label), file, what);
}
