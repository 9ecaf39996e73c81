import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEncryptedKeyText, loadIdentity } from '../../src/connection/identity.js';

let dir: string;
const keygen = (name: string, ...args: string[]) => {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-C', '', '-f', file, ...args]);
  return file;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rg-identity-'));
});

describe('private key files', () => {
  it('parses an unencrypted OpenSSH key', () => {
    const file = keygen('plain', '-t', 'ed25519', '-N', '');
    expect(isEncryptedKeyText(readFileSync(file, 'utf8'))).toBe(false);
    expect(loadIdentity(file)).toMatchObject({ status: 'ok', key: { type: 'ssh-ed25519' } });
  });

  it('tells passphrase-protected OpenSSH and PEM keys apart by their format', () => {
    const openssh = keygen('locked', '-t', 'ed25519', '-N', 'secret words');
    const pem = keygen('locked-pem', '-t', 'ecdsa', '-m', 'PEM', '-N', 'secret words');
    expect(readFileSync(pem, 'utf8')).toMatch(/Proc-Type: 4,ENCRYPTED/);
    expect(loadIdentity(openssh)).toEqual({ status: 'encrypted' });
    expect(loadIdentity(pem)).toEqual({ status: 'encrypted' });
    expect(loadIdentity(keygen('open-pem', '-t', 'ecdsa', '-m', 'PEM', '-N', ''))).toMatchObject({ status: 'ok' });
  });

  it('reports a missing file, a public key and garbage as values, not exceptions', () => {
    expect(loadIdentity(join(dir, 'absent'))).toEqual({ status: 'unreadable', reason: 'ENOENT' });
    const pub = `${keygen('other', '-t', 'ed25519', '-N', '')}.pub`;
    expect(loadIdentity(pub).status).toBe('invalid');
    writeFileSync(join(dir, 'junk'), 'not a key\n');
    expect(loadIdentity(join(dir, 'junk'))).toMatchObject({ status: 'invalid' });
  });

  it('re-reads a key file that changed on disk', () => {
    const file = keygen('rotating', '-t', 'ed25519', '-N', '');
    const first = loadIdentity(file);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'now locked', '-f', file]);
    expect(first.status).toBe('ok');
    expect(loadIdentity(file)).toEqual({ status: 'encrypted' });
  });
});
