import { describe, expect, it } from 'vitest';
import { labSettings, mirrorFromSources } from '../../src/lab/settings.js';

describe('lab settings', () => {
  it('takes the first non-security URI of the host deb822 sources as the mirror', () => {
    const text = 'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian\n';
    expect(mirrorFromSources(text)).toBe('http://mirror.example/debian');
  });

  it('reads every time from the environment in seconds, with defaults from the lab notes', () => {
    const s = labSettings({ HOME: '/h', ROLLGATE_LAB_BOOT_TIMEOUT: '90', ROLLGATE_LAB_STATE: '/st' });
    expect(s.bootTimeoutMs).toBe(90_000);
    expect(s.sshPollMs).toBe(5_000);
    expect(s.stateDir).toBe('/st');
    expect(s.maxParallel).toBe(3);
    expect(s.cacheDir).toMatch(/rollgate\/lab$/);
  });

  it('rejects a malformed number with the variable name', () => {
    expect(() => labSettings({ ROLLGATE_LAB_BOOT_TIMEOUT: 'soon' })).toThrow('ROLLGATE_LAB_BOOT_TIMEOUT=soon');
    expect(() => labSettings({ ROLLGATE_LAB_MAX_PARALLEL: '0' })).toThrow('ROLLGATE_LAB_MAX_PARALLEL=0');
    expect(() => labSettings({ ROLLGATE_LAB_ACCEL: 'hvf' })).toThrow('expected auto, tcg or kvm');
  });
});
