import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { noExpectations } from '../../src/modules/expectations.js';
import { findModule, moduleNames, modules, moduleSpecs } from '../../src/modules/registry.js';
import { addStepExpectations } from '../../src/executor/rollout/expectations.js';

const run = promisify(execFile);

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

  // Asynchronous: a synchronous tsc of a minute (a loaded CI machine) blocks the worker past vitest's own RPC
  // timeout, which ends the whole run.
  it('does not compile a spec without an implementation, nor args that break the schema (registry-types.ts)', async () => {
    const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname;
    const file = new URL('./registry-types.ts', import.meta.url).pathname;
    const args = ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--skipLibCheck', '--types', 'node'];
    args.push('--module', 'nodenext', '--target', 'es2022', file);
    await expect(run(process.execPath, [tsc, ...args], { maxBuffer: 16 << 20 })).resolves.toBeDefined();
  }, 300_000);
});
