import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/config-error.js';
import { definePowerDriver } from '../../src/power/definition.js';
import type { PowerDriver } from '../../src/power/driver.js';
import { powerDriverFor, registerPowerDriver } from '../../src/power/index.js';
import { builtinPowerDrivers, powerDriverNames, rollgatePowerSchema } from '../../src/power/registry.js';
import { connectionVars } from '../../src/targets/connection-vars.js';
import { inventorySchemaText } from '../../src/targets/inventory-schema.js';

const schemaFile = new URL('../../schemas/inventory.schema.json', import.meta.url);

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

const fake: PowerDriver = {
  kind: 'pdu',
  describe: 'pdu outlet 3',
  reset: async () => {},
  powerOff: async () => {},
  powerOn: async () => {},
  status: async () => 'on',
};

describe('the power driver registry', () => {
  it('is what schemas/inventory.schema.json was generated from (run `npm run schemas` after changing a driver)', () => {
    const text = readFileSync(schemaFile, 'utf8');
    expect(inventorySchemaText(JSON.parse(text) as Record<string, unknown>)).toBe(text);
    const power = (JSON.parse(text) as { definitions: { connectionVars: { properties: Record<string, unknown> } } })
      .definitions.connectionVars.properties.rollgate_power as { properties: { driver: { enum: string[] } } };
    expect(power.properties.driver.enum).toEqual(['qmp', 'ipmi', 'redfish', 'none']);
  });

  it("puts each driver's options into the schema under its name", () => {
    const schema = rollgatePowerSchema() as { allOf: Array<{ if: unknown; then: { properties: object } }> };
    expect(schema.allOf.map((b) => b.if)).toEqual(
      builtinPowerDrivers.map((d) => ({ properties: { driver: { const: d.name } } })),
    );
    expect(Object.keys(schema.allOf[1]?.then.properties ?? {})).toEqual([
      'host',
      'user',
      'password_env',
      'port',
      'cipher_suite',
      'ipmitool',
    ]);
  });

  it('refuses an option the driver does not declare, suggesting the closest', () => {
    const message = configError(() =>
      powerDriverFor({ name: 'hv1', vars: { rollgate_power: { driver: 'qmp', sockt: '/run/qmp.sock' } } }),
    );
    expect(message).toContain('host hv1: the qmp power driver has no option `sockt`. did you mean `socket`?');
  });

  it('accepts a driver registered at run time everywhere the names are checked', () => {
    registerPowerDriver(
      definePowerDriver({
        name: 'test-pdu',
        description: 'a switched PDU (test only)',
        options: { outlet: { description: 'outlet number', type: 'integer' } },
        create: (_host, cfg, ctx) => {
          if (typeof cfg.outlet !== 'number') ctx.problem(['outlet'], 'no outlet', 'add `outlet: 3`');
          return fake;
        },
      }),
    );
    expect(powerDriverNames()).toEqual(['qmp', 'ipmi', 'redfish', 'test-pdu', 'none']);
    const vars = { rollgate_power: { driver: 'test-pdu', outlet: 3 } };
    expect(powerDriverFor({ name: 'hv1', vars })).toBe(fake);
    expect(
      connectionVars({ name: 'hv1', vars, varOrigins: {}, origin: { file: 'hosts.yml', line: 3, column: 5 } }).power
        ?.value.driver,
    ).toBe('test-pdu');
    expect(configError(() => powerDriverFor({ name: 'hv1', vars: { rollgate_power: { driver: 'test-pdu' } } }))).toBe(
      'host hv1: no outlet. add `outlet: 3`',
    );
  });

  it('refuses to register a name twice, or `none`', () => {
    expect(() => registerPowerDriver({ ...builtinPowerDrivers[0] })).toThrow(/registered twice/);
    expect(() => registerPowerDriver({ ...builtinPowerDrivers[0], name: 'none' })).toThrow(/registered twice/);
  });
});
