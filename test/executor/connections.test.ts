import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/connection/connection.js';
import type { SshTarget } from '../../src/connection/target.js';
import { connectionFactory, type SharedConnections } from '../../src/executor/connections.js';

const target = (name: string) => ({ name, host: '127.0.0.1', port: 22, user: 'root' }) as unknown as SshTarget;

describe('the connection factory every command opens hosts with', () => {
  it('gives every login of a run the same known_hosts store and bastion pool', async () => {
    const seen: SharedConnections[] = [];
    const factory = connectionFactory(async (_t, shared) => {
      seen.push(shared);
      return { close: async () => undefined } as unknown as Connection;
    });
    await factory.open(target('a'));
    await factory.open(target('b'));
    await factory.open(target('a'));
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.knownHosts)).size).toBe(1);
    expect(new Set(seen.map((s) => s.jumps)).size).toBe(1);
    expect(seen[0]).toBe(factory.shared);
    await factory.close();
  });

  it('gives two runs two stores', () => {
    expect(connectionFactory().shared.knownHosts).not.toBe(connectionFactory().shared.knownHosts);
  });
});
