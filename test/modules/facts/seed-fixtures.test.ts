import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseKinds, isParseKind } from '../../../src/modules/facts/parse-kinds.js';
import { listFixtures, expectedFor } from './fixture-files.js';

const sets = [
  { title: 'the field guides\' sample outputs', dir: 'test/fixtures/seeds', min: 30 },
  { title: 'odd formats operators paste (public documentation formats)', dir: 'test/fixtures/formats', min: 14 },
  { title: 'real outputs of the lab VMs', dir: 'test/fixtures/lab', min: 0 },
];

for (const set of sets) describe(set.title, () => {
  const fixtures = listFixtures(set.dir);
  it('are present as fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(set.min);
  });
  for (const f of fixtures) {
    it(`parses ${f.name} (${f.kind}) into the expected facts`, () => {
      expect(isParseKind(f.kind), `unknown kind ${f.kind}`).toBe(true);
      const actual = JSON.parse(JSON.stringify(parseKinds[f.kind as keyof typeof parseKinds].parse(readFileSync(f.textPath, 'utf8'))));
      const expected = expectedFor(f, actual);
      expect(expected, `${f.jsonPath} is missing (UPDATE_FIXTURES=1 writes it for review)`).toBeDefined();
      expect(actual).toEqual(expected);
    });
  }
});
