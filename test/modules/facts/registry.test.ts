import { describe, expect, it } from 'vitest';
import { facts, factEntries } from '../../../src/modules/facts/registry.js';
import { allSources } from '../../../src/modules/facts/sources.js';
import { findParseKind, parseKinds } from '../../../src/modules/facts/parse-kinds.js';
import { buildCollectionScript } from '../../../src/modules/facts/script.js';
import { HEALTHY, hostSnapshot } from './host-fixture.js';

describe('the fact registry', () => {
  it('is the list of the collection script: every fact with a command, when it applies, in registry order', () => {
    const commanded = factEntries().filter(([, f]) => f.command);
    const names = (o: { passthroughIds: string[]; profileSeconds: number }) => allSources(o).map((s) => s.name);
    expect(names({ passthroughIds: ['10de:1e87'], profileSeconds: 5 })).toEqual(commanded.map(([n]) => n));
    expect(names({ passthroughIds: [], profileSeconds: 0 })).toEqual(
      commanded.filter(([, f]) => (f.when ?? 'always') === 'always').map(([n]) => n),
    );
    const { script } = buildCollectionScript(allSources({ passthroughIds: [], profileSeconds: 0 }), 30);
    expect(script.text).toContain("rg_sec cmdline 'cat /proc/cmdline'");
  });

  it('quotes the passthrough ids into the commands that read them', () => {
    const text = facts.lspci_vv.command?.({ passthroughIds: ["10de:1e87'x"], profileSeconds: 0 }).text;
    expect(text).toContain("for id in '10de:1e87'\\''x'; do");
  });

  it('offers every fact with a cli kind to `facts parse`, each kind once, with its own parser or view', () => {
    const kinds = factEntries().flatMap(([, f]) => (f.cli ? [f.cli.kind] : []));
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(Object.keys(parseKinds)).toEqual(kinds);
    expect(findParseKind('cmdline')?.parse('BOOT_IMAGE=/vmlinuz ro iommu=pt\n')).toEqual(
      facts.cmdline.parse('BOOT_IMAGE=/vmlinuz ro iommu=pt\n'),
    );
    expect(findParseKind('uname')?.parse('6.1.0-50-amd64\n')).toEqual({ release: '6.1.0-50-amd64' });
    expect(findParseKind('no-such-kind')).toBeUndefined();
  });

  it('keeps a fact the snapshot does not place under `facts`, parsed by its own parser', () => {
    expect(hostSnapshot(HEALTHY)).not.toHaveProperty('facts');
    const mpstat = [
      'Linux 6.1.0 (hv01)  02/04/2026  _x86_64_  (2 CPU)',
      '',
      '10:30:01 AM  CPU    %usr   %nice    %sys %iowait    %irq   %soft  %steal  %guest  %gnice   %idle',
      '10:30:02 AM  all    1.00    0.00    1.00    0.00    0.00    3.00    0.00    0.00    0.00   95.00',
      '10:30:02 AM    0    1.00    0.00    1.00    0.00    0.00    5.00    0.00    0.00    0.00   93.00',
      '',
    ].join('\n');
    const s = hostSnapshot(HEALTHY, { mpstat });
    expect(s.facts).toEqual({ mpstat: { status: 'ok', value: facts.mpstat.parse(mpstat) } });
    expect(s.facts?.mpstat).not.toEqual({ status: 'ok', value: null });
  });
});
