import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qemuArgs } from '../../src/lab/qemu-args.js';
import { LAB_KINDS } from '../../src/lab/kinds.js';
import { findSavedState, incomingFrom, savedStateKey } from '../../src/lab/saved-state.js';
import { vmRecord } from '../../src/lab/vm.js';

const rec = (dir: string, name = 'lab1', iommu: 'intel' | 'amd' = 'intel', port = 40022) => vmRecord(dir, name, 0, iommu, port);
const base = { imageHash: '0123456789abcdef', accel: 'tcg' as const, memoryMb: 1024, qemuVersion: 'QEMU emulator version 7.2.0' };

describe('saved booted states of lab VMs', () => {
  it('match a VM whatever its ports and paths, since migration carries neither', () => {
    const a = savedStateKey({ ...base, rec: rec('/state/a/vms', 'lab1', 'intel', 40022) });
    const b = savedStateKey({ ...base, rec: rec('/other/state/vms', 'lab1', 'intel', 51234) });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differ by image, VM, kind, memory, accelerator and QEMU build', () => {
    const key = savedStateKey({ ...base, rec: rec('/s') });
    expect(savedStateKey({ ...base, imageHash: 'fedcba9876543210', rec: rec('/s') })).not.toBe(key);
    expect(savedStateKey({ ...base, rec: rec('/s', 'lab2') })).not.toBe(key);
    expect(savedStateKey({ ...base, rec: rec('/s', 'lab1', 'amd') })).not.toBe(key);
    expect(savedStateKey({ ...base, memoryMb: 2048, rec: rec('/s') })).not.toBe(key);
    expect(savedStateKey({ ...base, accel: 'kvm', rec: rec('/s') })).not.toBe(key);
    // A profile's change to the booted guest (stock-grub) is another saved state.
    expect(savedStateKey({ ...base, setup: 'stock-grub-1', rec: rec('/s') })).not.toBe(key);
    expect(savedStateKey({ ...base, qemuVersion: 'QEMU emulator version 8.2.2', rec: rec('/s') })).not.toBe(key);
  });

  it('are found only when complete (a half-written state is never restored)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-saved-'));
    mkdirSync(dir, { recursive: true });
    for (const f of ['disk.qcow2', 'memory.state', 'ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub']) writeFileSync(join(dir, f), 'x');
    expect(findSavedState(dir)).toBeUndefined();
    writeFileSync(join(dir, 'meta.json'), '{}');
    expect(findSavedState(dir)?.memory).toBe(join(dir, 'memory.state'));
  });

  it('load through -incoming, refusing paths the exec: migration would split', () => {
    const saved = { dir: '/c', disk: '/c/disk.qcow2', memory: '/c/memory.state', hostKey: '/c/k' };
    expect(incomingFrom(saved)).toBe('exec:cat /c/memory.state');
    expect(() => incomingFrom({ ...saved, memory: '/c c/memory.state' })).toThrow(/ROLLGATE_LAB_CACHE/);
    const args = qemuArgs({
      name: 'lab1', kind: LAB_KINDS.intel, accel: 'tcg', memoryMb: 1024, disk: '/d', sshPort: 1, qmpSocket: '/q', consoleLog: '/c',
      pidFile: '/p', hostKeyFile: '/k', hostKeyPubFile: '/k.pub', mac: '52:54:00:72:67:01', incoming: incomingFrom(saved),
    });
    expect(args.slice(-2)).toEqual(['-incoming', 'exec:cat /c/memory.state']);
  });
});
