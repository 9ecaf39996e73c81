/**
 * The power drivers rollgate knows, by name: the only list of them. It drives the `rollgate_power` part of the
 * inventory schema (`npm run schemas`), the driver names accepted by the connection variables, and the lookup of
 * `powerDriverFor`. Adding a driver: its file in src/power/ exporting a `definePowerDriver(...)`, and one line in
 * `builtinPowerDrivers` below.
 */
import { InternalError } from '../core/internal-error.js';
import type { PowerDriverDefinition } from './definition.js';
import { ipmiPower } from './ipmi.js';
import { qmpPower } from './qmp.js';
import { redfishPower } from './redfish.js';

/** The drivers shipped with rollgate, in the order the schema and messages list them. */
export const builtinPowerDrivers = [qmpPower, ipmiPower, redfishPower] as const;

/** `rollgate_power.driver` values: a built-in driver's name, or `none` (no out-of-band control). */
export type PowerDriverName = (typeof builtinPowerDrivers)[number]['name'] | 'none';

/**
 * Inventory form, e.g.
 *   rollgate_power: { driver: qmp, socket: /path/to/qmp.sock }
 *   rollgate_power: { driver: ipmi, host: 10.0.0.5, user: admin, password_env: IPMI_PASSWORD }
 */
export interface PowerConfig {
  driver: PowerDriverName;
  [option: string]: unknown;
}

const registered = new Map<string, PowerDriverDefinition>();

/**
 * Add a driver (the built-ins are added this way below; a test or an embedding program may add its own). A
 * driver registered at run time is accepted by `powerDriverFor`; it reaches the published inventory schema only
 * when it is built in (`npm run schemas`).
 */
export function registerPowerDriver(definition: PowerDriverDefinition): void {
  if (definition.name === 'none' || registered.has(definition.name))
    throw new InternalError(`power driver ${JSON.stringify(definition.name)} is registered twice`);
  registered.set(definition.name, definition);
}

for (const d of builtinPowerDrivers) registerPowerDriver(d);

export function findPowerDriver(name: string): PowerDriverDefinition | undefined {
  return registered.get(name);
}

/** Every accepted `driver:` value, `none` last. */
export function powerDriverNames(): string[] {
  return [...registered.keys(), 'none'];
}

/** JSON Schema of `rollgate_power` for the given drivers: the driver enum and, per driver, its options' types. */
export function rollgatePowerSchema(
  drivers: readonly PowerDriverDefinition[] = builtinPowerDrivers,
): Record<string, unknown> {
  const names = [...drivers.map((d) => d.name), 'none'];
  return {
    type: 'object',
    required: ['driver'],
    properties: {
      driver: {
        description: drivers.map((d) => `${d.name}: ${d.description}`).join('; ') + '; none: no power control',
        enum: names,
        'x-hint': `write \`driver:\` ${names.join(', ')} (\`none\`: a host that does not come back needs a person)`,
      },
    },
    allOf: drivers.map((d) => ({
      if: { properties: { driver: { const: d.name } } },
      then: { properties: d.options },
    })),
    'x-hint': `write rollgate_power as a mapping with \`driver: ${names.join('|')}\` and the driver's options`,
  };
}
