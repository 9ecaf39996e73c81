import { describe, expect, it } from 'vitest';
import { clusterCapOf } from '../../src/strategy/cluster.js';

describe('cluster down-slot cap from inventory variables', () => {
  it.each([
    [{}, { ok: true, cap: null }],
    [{ rollgate_cluster: 'rack7' }, { ok: true, cap: { cluster: 'rack7', maxDown: 1 } }],
    [
      { rollgate_cluster: 'rack7', rollgate_max_down: 2 },
      { ok: true, cap: { cluster: 'rack7', maxDown: 2 } },
    ],
    [
      { rollgate_cluster: 'rack7', rollgate_max_down: '3' },
      { ok: true, cap: { cluster: 'rack7', maxDown: 3 } },
    ],
  ])('reads %j', (vars, expected) => {
    expect(clusterCapOf(vars)).toEqual(expected);
  });

  it.each([
    [{ rollgate_max_down: 1 }, 'rollgate_max_down', 'rollgate_max_down is set without rollgate_cluster'],
    [{ rollgate_cluster: '' }, 'rollgate_cluster', 'rollgate_cluster must be a non-empty string, not ""'],
    [
      { rollgate_cluster: 'r', rollgate_max_down: 0 },
      'rollgate_max_down',
      'rollgate_max_down must be a whole number of hosts ≥ 1, not 0',
    ],
    [
      { rollgate_cluster: 'r', rollgate_max_down: 'two' },
      'rollgate_max_down',
      'rollgate_max_down must be a whole number of hosts ≥ 1, not "two"',
    ],
  ])('refuses %j', (vars, variable, message) => {
    expect(clusterCapOf(vars)).toMatchObject({ ok: false, variable, message });
  });
});
