import { describe, expect, it } from 'vitest';
import { grubSetting, setGrubSetting } from '../../src/modules/boot/grub-settings.js';

const files = (...texts: string[]) =>
  texts.map((text, i) => ({ path: i ? `/etc/default/grub.d/${i}.cfg` : '/etc/default/grub', text }));

describe('GRUB settings as grub-mkconfig sources them', () => {
  it('reads the last assignment of the last file that has one, quoted or not', () => {
    expect(grubSetting(files('GRUB_DEFAULT=0\n'), 'GRUB_DEFAULT')).toBe('0');
    expect(grubSetting(files('GRUB_DEFAULT=0\nexport GRUB_DEFAULT="saved"\n'), 'GRUB_DEFAULT')).toBe('saved');
    expect(grubSetting(files('GRUB_DEFAULT=saved\n', "GRUB_DEFAULT='1>2' # submenu\n"), 'GRUB_DEFAULT')).toBe('1>2');
    expect(grubSetting(files('#GRUB_DEFAULT=saved\nGRUB_DEFAULT_X=1\n'), 'GRUB_DEFAULT')).toBeUndefined();
    expect(grubSetting(files('GRUB_DEFAULT=\n'), 'GRUB_DEFAULT')).toBe('');
  });

  it('edits the value that wins in place, every other byte kept; appends to the first file when unset', () => {
    const out = setGrubSetting(
      files('A=1\nGRUB_DEFAULT=0 # stock\n', 'GRUB_DEFAULT="2"\nB=2'),
      'GRUB_DEFAULT',
      'saved',
    );
    expect(out.map((f) => f.text)).toEqual(['A=1\nGRUB_DEFAULT=0 # stock\n', 'GRUB_DEFAULT=saved\nB=2']);
    expect(setGrubSetting(files('A=1'), 'GRUB_RECORDFAIL_TIMEOUT', '5').map((f) => f.text)).toEqual([
      'A=1\nGRUB_RECORDFAIL_TIMEOUT=5\n',
    ]);
  });

  it('refuses what only the shell knows, and values that are not plain words', () => {
    expect(() => grubSetting(files('GRUB_DEFAULT="${X}"\n'), 'GRUB_DEFAULT')).toThrow(/computed by the shell/);
    expect(() => grubSetting(files('GRUB_DEFAULT=`x`\n'), 'GRUB_DEFAULT')).toThrow(/computed by the shell/);
    expect(() => grubSetting(files('GRUB_DEFAULT="saved\n'), 'GRUB_DEFAULT')).toThrow(
      /does not close on the same line/,
    );
    expect(grubSetting(files("GRUB_DEFAULT='$literal'\n"), 'GRUB_DEFAULT')).toBe('$literal');
    expect(() => setGrubSetting(files(''), 'GRUB_DEFAULT', 'a b')).toThrow(/not a plain value/);
  });
});
