import { describe, expect, it } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import {
  findKnownKeys,
  knownHostsName,
  preferredHostKeyAlgorithms,
  verifyHostKey,
} from '../../src/connection/known-hosts.js';

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIEDkey1';
const ED2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIEDkey2';
const EC = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYkey';

describe('known_hosts lookup', () => {
  it('stores non-22 ports as [host]:port', () => {
    expect(knownHostsName('hv01', 22)).toBe('hv01');
    expect(knownHostsName('127.0.0.1', 2201)).toBe('[127.0.0.1]:2201');
  });

  it('lower-cases the name as ssh does, so a hashed entry for localhost is found for LOCALHOST', () => {
    expect(knownHostsName('LOCALHOST', 2201)).toBe('[localhost]:2201');
    const text = `${hashed('[localhost]:2201')} ssh-ed25519 ${ED}\n${hashed('hv01.lab')} ssh-ed25519 ${ED2}\n[LocalHost]:2202 ssh-ed25519 ${ED}\n`;
    expect(findKnownKeys(text, '[LOCALHOST]:2201').map((k) => k.line)).toEqual([1]);
    expect(findKnownKeys(text, 'HV01.Lab').map((k) => k.line)).toEqual([2]);
    expect(findKnownKeys(text, '[localhost]:2202').map((k) => k.line)).toEqual([3]);
  });

  it('reads @cert-authority lines as authorities, never as the host key, and skips unknown markers', () => {
    const text = `@cert-authority *.lab ssh-ed25519 ${ED}\n@bogus hv1.lab ssh-ed25519 ${ED}\n`;
    const known = findKnownKeys(text, 'hv1.lab');
    expect(known).toEqual([{ type: 'ssh-ed25519', key: ED, revoked: false, certAuthority: true, line: 1 }]);
    // Even the CA's own key offered as a host key is not a match; an unknown key is not "new" either.
    expect(verifyHostKey(known, { type: 'ssh-ed25519', key: ED })).toEqual({ status: 'cert-authority', lines: [1] });
    expect(verifyHostKey(known, { type: 'ssh-ed25519', key: ED2 })).toEqual({ status: 'cert-authority', lines: [1] });
    expect(preferredHostKeyAlgorithms(known)).toEqual([]);
    // A plain entry beside the authority decides as usual.
    const both = findKnownKeys(`${text}hv1.lab ssh-ed25519 ${ED2}\n`, 'hv1.lab');
    expect(verifyHostKey(both, { type: 'ssh-ed25519', key: ED2 })).toEqual({ status: 'match' });
    expect(verifyHostKey(both, { type: 'ssh-ed25519', key: ED })).toMatchObject({ status: 'changed', lines: [3] });
  });

  it('finds plain, comma-list, hashed and wildcard entries and honours negation', () => {
    const text = [
      '# comment',
      `hv01,10.0.0.1 ssh-ed25519 ${ED}`,
      `${hashed('[127.0.0.1]:2201')} ssh-ed25519 ${ED2}`,
      `*.lab,!bad.lab ecdsa-sha2-nistp256 ${EC}`,
      `@cert-authority *.lab ssh-ed25519 ${ED}`,
    ].join('\n');
    expect(findKnownKeys(text, 'hv01').map((k) => k.line)).toEqual([2]);
    expect(findKnownKeys(text, '10.0.0.1')).toHaveLength(1);
    expect(findKnownKeys(text, '[127.0.0.1]:2201')).toEqual([
      { type: 'ssh-ed25519', key: ED2, revoked: false, certAuthority: false, line: 3 },
    ]);
    expect(findKnownKeys(text, '[127.0.0.1]:2202')).toEqual([]);
    expect(findKnownKeys(text, 'x.lab').map((k) => [k.line, k.certAuthority])).toEqual([
      [4, false],
      [5, true],
    ]);
    expect(findKnownKeys(text, 'bad.lab').map((k) => k.line)).toEqual([5]); // negated on line 4 only
  });

  it('says match, unknown, changed (with the recorded types) and revoked', () => {
    const known = findKnownKeys(`h ssh-ed25519 ${ED}\n@revoked h ssh-ed25519 ${ED2}\n`, 'h');
    expect(verifyHostKey(known, { type: 'ssh-ed25519', key: ED })).toEqual({ status: 'match' });
    expect(verifyHostKey([], { type: 'ssh-ed25519', key: ED })).toEqual({ status: 'unknown' });
    expect(verifyHostKey(known, { type: 'ssh-ed25519', key: ED2 })).toEqual({ status: 'revoked', line: 2 });
    expect(verifyHostKey(known, { type: 'ecdsa-sha2-nistp256', key: EC })).toEqual({
      status: 'changed',
      lines: [1],
      knownTypes: ['ssh-ed25519'],
    });
  });

  it('asks first for the algorithms already recorded, RSA with SHA-2 before ssh-rsa', () => {
    const known = findKnownKeys(`h ssh-rsa AAAArsa\nh ssh-ed25519 ${ED}\n@revoked h ecdsa-sha2-nistp256 ${EC}\n`, 'h');
    expect(preferredHostKeyAlgorithms(known)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(preferredHostKeyAlgorithms([])).toEqual([]);
  });
});
