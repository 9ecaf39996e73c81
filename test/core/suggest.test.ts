import { describe, expect, it } from 'vitest';
import { closestName, didYouMean } from '../../src/core/suggest.js';

describe('closestName', () => {
  it('suggests the nearest name for a one-letter typo', () => {
    expect(closestName('hots', ['hosts', 'vars', 'children'])).toBe('hosts');
    expect(closestName('hypervisor', ['hypervisors', 'storage'])).toBe('hypervisors');
  });

  it('prefers a case-only difference over any edit', () => {
    expect(closestName('Hosts', ['hosts', 'Hostx'])).toBe('hosts');
  });

  it('suggests nothing when every candidate is far away', () => {
    expect(closestName('zzz', ['hosts', 'vars'])).toBeUndefined();
    expect(closestName('ab', ['xy'])).toBeUndefined();
  });

  it('never suggests the word itself', () => {
    expect(closestName('vars', ['vars'])).toBeUndefined();
  });
});

describe('didYouMean', () => {
  it('words the suggestion as a question with the name quoted', () => {
    expect(didYouMean('chidren', ['children'])).toBe('did you mean `children`?');
  });
});
