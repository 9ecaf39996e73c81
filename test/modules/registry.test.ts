import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { noExpectations } from '../../src/modules/expectations.js';
import { findModule, moduleNames, modules, moduleSpecs } from '../../src/modules/registry.js';
import { addStepExpectations } from '../../src/executor/rollout/expectations.js';

describe('the module registry', () => {
  it('holds each module under its own name, spec and implementation together', () => {
    for (const name of moduleNames) {
      const m = modules[name];
      expect(m.name).toBe(name);
      expect(m.options.type).toBe('object');
      expect('run' in m || ('check' in m && 'apply' in m), name).toBe(true);
    }
    expect(moduleSpecs).toBe(modules);
    expect(findModule('kernel_args')).toBe(modules.kernel_args);
    expect(findModule('toString')).toBeUndefined();
  });

  it("asks a step's own module what the trial boot must show, and nothing of a module without expectations", () => {
    const exp = noExpectations();
    addStepExpectations(exp, { module: 'vfio_bind', args: { ids: ['10DE:1E87'] }, status: 'applied', data: null });
    addStepExpectations(exp, { module: 'kernel_args', args: { present: 'iommu=pt' }, status: 'ok', data: null });
    addStepExpectations(exp, { module: 'command', args: { cmd: 'true' }, status: 'applied', data: null });
    addStepExpectations(exp, { module: 'rollout.trial', args: {}, status: 'applied', data: null });
    expect(exp).toEqual({ ...noExpectations(), drivers: { '10de:1e87': 'vfio-pci' }, argsPresent: ['iommu=pt'] });
    expect(moduleNames.filter((n) => 'expectAfterBoot' in modules[n]).sort()).toEqual([
      'initramfs',
      'kernel_args',
      'kernel_package',
      'verify',
      'vfio_bind',
    ]);
  });

  it('does not compile a spec without an implementation, nor args that break the schema (registry-types.ts)', () => {
    const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    const file = new URL('./registry-types.ts', import.meta.url).pathname;
    const args = ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--skipLibCheck', '--types', 'node'];
    args.push('--module', 'nodenext', '--target', 'es2022', file);
    expect(() => execFileSync(process.execPath, [tsc, ...args], { stdio: 'pipe' })).not.toThrow();
  }, 60_000);
});
