/**
 * Compile-time checks of the module registry, typechecked by test/modules/registry.test.ts (and by
 * tsconfig.test.json): each `@ts-expect-error` below must stay an error, or the compile fails.
 */
import { defineHostModule } from '../../src/modules/define-module.js';
import { modules, type ModuleArgs, type ModuleTable } from '../../src/modules/registry.js';

const options = { type: 'object', additionalProperties: false, properties: { path: { type: 'string' } } } as const;

// A spec without an implementation is not a module.
// @ts-expect-error apply is missing
defineHostModule({
  name: 'touch',
  description: 'make a file',
  changesHost: true,
  options,
  async check() {
    return { status: 'no_change', reason: 'exists' } as const;
  },
});

const specOnly = { touch: { name: 'touch', description: 'make a file', changesHost: true, options } } as const;
// @ts-expect-error a table whose entry has no implementation
void (specOnly satisfies ModuleTable<typeof specOnly>);

const renamed = { touch: modules.reboot };
// @ts-expect-error an entry whose name is not its key
void (renamed satisfies ModuleTable<typeof renamed>);

// Args come from the schema: required options, option types, enums and unknown options are all checked.
export const ok: ModuleArgs<'vfio_bind'> = { ids: ['10de:1e87'], runtime: true };
// @ts-expect-error ids is required
export const noIds: ModuleArgs<'vfio_bind'> = { runtime: true };
// @ts-expect-error runtime is a boolean
export const badType: ModuleArgs<'vfio_bind'> = { ids: [], runtime: 'yes' };
// @ts-expect-error state is present or absent
export const badEnum: ModuleArgs<'driver_blacklist'> = { drivers: ['nouveau'], state: 'gone' };
// @ts-expect-error an option the schema does not have
export const unknownOption: ModuleArgs<'reboot'> = { boot_timeout: 60, reson: 'x' };
export const oneOf: Array<ModuleArgs<'assert'>['that']> = ['a == 1', ['a', 'b']];
