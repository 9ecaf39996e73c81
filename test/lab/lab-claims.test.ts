import { describe, expect, it } from 'vitest';
import { pickHosts } from '../e2e/lab-claims.js';

const lab = (dirty: string[] = [], only?: string[]) =>
  ['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6']
    .map((name, index) => ({ name, index, iommu: (index % 2 === 0 ? 'intel' : 'amd') as 'intel' | 'amd', dirty: dirty.includes(name), restorable: index % 2 === 0 }))
    .filter((h) => !only || only.includes(h.name));

describe('handing lab hosts to e2e scenarios', () => {
  it('gives the requested kinds, clean hosts first, in lab order', () => {
    expect(pickHosts(lab(['lab1']), { intel: 2, label: 't' })).toEqual(['lab3', 'lab5']);
    expect(pickHosts(lab(), { intel: 1, amd: 1, any: 1, label: 't' })).toEqual(['lab1', 'lab2', 'lab3']);
  });

  it('takes dirty hosts when not enough clean ones are free (the claim restores them)', () => {
    expect(pickHosts(lab(['lab1', 'lab3', 'lab5']), { intel: 3, label: 't' })).toEqual(['lab1', 'lab3', 'lab5']);
  });

  it('prefers a dirty host that restores in seconds over one that needs a cold boot', () => {
    expect(pickHosts(lab(['lab1', 'lab2', 'lab3', 'lab4', 'lab5']), { any: 2, label: 't' })).toEqual(['lab1', 'lab6']);
    expect(pickHosts(lab(['lab1', 'lab2', 'lab3', 'lab4', 'lab5', 'lab6']), { any: 1, label: 't' })).toEqual(['lab1']);
  });

  it('waits (undefined) rather than give fewer hosts than asked', () => {
    expect(pickHosts(lab([], ['lab1', 'lab2']), { intel: 2, label: 't' })).toBeUndefined();
    expect(pickHosts(lab([], ['lab1', 'lab2']), { any: 3, label: 't' })).toBeUndefined();
  });

  it('gives sameKind hosts of one kind, from the kind with more clean hosts free', () => {
    expect(pickHosts(lab(['lab1']), { sameKind: 2, label: 't' })).toEqual(['lab2', 'lab4']);
    expect(pickHosts(lab([], ['lab1', 'lab2', 'lab3']), { sameKind: 2, label: 't' })).toEqual(['lab1', 'lab3']);
    expect(pickHosts(lab([], ['lab1', 'lab2']), { sameKind: 2, label: 't' })).toBeUndefined();
  });
});
