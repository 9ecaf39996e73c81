import { describe, expect, it } from 'vitest';
import { parseProxyJump } from '../../src/targets/proxy-jump.js';

describe('ProxyJump specs', () => {
  it.each([
    ['bastion', [{ host: 'bastion' }]],
    ['ops@bastion:2222', [{ user: 'ops', host: 'bastion', port: 2222 }]],
    ['a, ops@b:22', [{ host: 'a' }, { user: 'ops', host: 'b', port: 22 }]],
    ['[::1]:2200', [{ host: '::1', port: 2200 }]],
    ['ssh://ops@b', [{ user: 'ops', host: 'b' }]],
  ])('parses %s', (text, hops) => {
    expect(parseProxyJump(text)).toEqual(hops);
  });

  it('treats none and empty as no jump host', () => {
    expect(parseProxyJump('none')).toBeUndefined();
    expect(parseProxyJump(' ')).toBeUndefined();
  });

  it('explains a malformed hop', () => {
    expect(parseProxyJump('a,,b')).toMatch(/is not \[user@\]host\[:port\]/);
    expect(parseProxyJump('b:70000')).toMatch(/out of range/);
  });
});
