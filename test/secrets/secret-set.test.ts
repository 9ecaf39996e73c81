import { describe, expect, it } from 'vitest';
import { isSecretName } from '../../src/secrets/secret-names.js';
import { SCRUBBED, SecretSet } from '../../src/secrets/secret-set.js';
import { quote } from '../../src/connection/shell-quote.js';

describe('secret names', () => {
  it('matches name segments, camelCase and glued long words', () => {
    for (const name of [
      'api_pw',
      'db_pwd',
      'ldap_pass',
      'PASSWORD',
      'rootpassword',
      'apiToken',
      'api-key',
      'apikey',
      'API_KEY',
      'ssh_private_key',
      'client_secret',
      'aws_secret_access_key',
      'vault_db_password',
      'registry_credentials',
      'bmc_creds',
      'github_token',
      'wifi_passphrase',
      'access_key',
    ]) {
      expect([name, isSecretName(name)]).toEqual([name, true]);
    }
  });

  it('leaves bypass, compass, passthrough and names that say where a secret is', () => {
    for (const name of [
      'bypass',
      'bypass_cache',
      'compass_heading',
      'passthrough_devices',
      'iommu_passthrough',
      'passes',
      'keyboard',
      'key',
      'ssh_key_type',
      'password_env',
      'vault_password_file',
      'ansible_ssh_private_key_file',
      'token_ttl',
      'tokenizer',
      'monkey',
      'passenger',
    ]) {
      expect([name, isSecretName(name)]).toEqual([name, false]);
    }
  });
});

describe('SecretSet', () => {
  it('scrubs a value as written, shell-quoted, JSON-escaped, base64 and URL-encoded', () => {
    const set = new SecretSet();
    const value = `it's "s3cr3t"\\x`;
    set.add(value);
    expect(set.scrubText(`echo ${value}!`)).toBe(`echo ${SCRUBBED}!`);
    expect(set.scrubText(`sh -c 'echo ${quote(value)}'`)).not.toContain('s3cr3t');
    expect(set.scrubText(JSON.stringify({ cmd: `run ${quote(value)}` }))).not.toContain('s3cr3t');
    expect(set.scrubText(`Authorization: Basic ${Buffer.from(value).toString('base64')}`)).toBe(
      `Authorization: Basic ${SCRUBBED}`,
    );
    expect(set.scrubText(`https://h/?p=${encodeURIComponent(value)}`)).toBe(`https://h/?p=${SCRUBBED}`);
  });

  it('scrubs every line of a multi-line value, the longest value first, in one pass', () => {
    const set = new SecretSet();
    set.add('-----BEGIN KEY-----\nAAAAbase64line\n-----END KEY-----');
    set.add('abcd');
    set.add('abcdefgh');
    expect(set.scrubText('line AAAAbase64line')).toBe(`line ${SCRUBBED}`);
    expect(set.scrubText('x abcdefgh y abcd')).toBe(`x ${SCRUBBED} y ${SCRUBBED}`);
  });

  it('ignores short values, booleans and flag words, adds numbers of six digits and more', () => {
    const set = new SecretSet();
    set.add('abc');
    set.add(true);
    set.add('none');
    set.add(1234);
    set.add(123456);
    expect(set.size).toBe(1);
    expect(set.scrubText('abc none 1234 123456')).toBe(`abc none 1234 ${SCRUBBED}`);
  });

  it('scrubs strings and keys deep inside data, and keeps Buffers', () => {
    const set = new SecretSet();
    set.add({ nested: ['hunter22'] });
    const buf = Buffer.from('hunter22');
    expect(set.scrub({ a: ['x hunter22'], hunter22: 1, b: buf })).toEqual({
      a: [`x ${SCRUBBED}`],
      [SCRUBBED]: 1,
      b: buf,
    });
  });

  it('scrubs the first part of a secret that a cut line ends with', () => {
    const set = new SecretSet();
    set.add('correct-horse-battery');
    expect(set.scrubText('echo correct-horse…')).toBe(`echo ${SCRUBBED}…`);
    expect(set.scrubText('echo cor…')).toBe('echo cor…');
  });

  it('scrubs error messages and stacks', () => {
    const set = new SecretSet();
    set.add('hunter22');
    const err = set.scrubError(new Error('failed with hunter22'));
    expect(err.message).toBe(`failed with ${SCRUBBED}`);
    expect(err.stack).not.toContain('hunter22');
  });
});
