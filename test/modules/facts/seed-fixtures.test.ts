import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { findParseKind, isParseKind } from '../../../src/modules/facts/parse-kinds.js';
import { listFixtures, listLabFixtures, expectedFor, unclassifiedLabSources } from './fixture-files.js';

const sets = [
  { title: "the field guides' sample outputs", dir: 'test/fixtures/seeds', min: 30, list: listFixtures },
  {
    title: 'odd formats operators paste (public documentation formats)',
    dir: 'test/fixtures/formats',
    min: 14,
    list: listFixtures,
  },
  // intel/amd: default 16 parsed sources each, pt 17 (with the previous boot's log), vfio 6 (retaken after binding).
  { title: 'real outputs of the lab VMs', dir: 'test/fixtures/lab', min: 78, list: listLabFixtures },
];

describe('lab captures', () => {
  it('are each parsed or listed as unparsed with the reason', () => {
    expect(unclassifiedLabSources('test/fixtures/lab')).toEqual([]);
  });
});

for (const set of sets)
  describe(set.title, () => {
    const fixtures = set.list(set.dir);
    it('are present as fixtures', () => {
      expect(fixtures.length).toBeGreaterThanOrEqual(set.min);
    });
    for (const f of fixtures) {
      it(`parses ${f.name} (${f.kind}) into the expected facts`, () => {
        expect(isParseKind(f.kind), `unknown kind ${f.kind}`).toBe(true);
        const actual = JSON.parse(JSON.stringify(findParseKind(f.kind)?.parse(readFileSync(f.textPath, 'utf8'))));
        const expected = expectedFor(f, actual);
        expect(expected, `${f.jsonPath} is missing (UPDATE_FIXTURES=1 writes it for review)`).toBeDefined();
        expect(actual).toEqual(expected);
      });
    }
  });
