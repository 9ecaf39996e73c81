/**
 * schemas/inventory.schema.json's variable part, generated from the registries: the `rollgate_*` variables from
 * core/host-vars.ts, and `rollgate_power`'s drivers and options from the power drivers (src/power/registry.ts). The group structure stays as written in the file; `npm run schemas` rewrites
 * the generated part, and a unit test fails when the file and the registries disagree.
 */
import { hostVarDeclarations } from '../core/host-vars.js';
import { rollgatePowerSchema } from '../power/registry.js';

type Schema = Record<string, unknown>;

/** The inventory schema `base` (the file's current content) with its generated parts replaced. */
export function inventorySchema(base: Schema): Schema {
  const schema = structuredClone(base);
  const definitions = schema.definitions as Record<string, Schema>;
  const connectionVars = definitions.connectionVars as { properties: Record<string, Schema> };
  // The declared rollgate_* variables replace any written before; others (ansible_*) stay as written.
  const properties: Record<string, Schema> = {};
  for (const [name, value] of Object.entries(connectionVars.properties))
    if (!name.startsWith('rollgate_')) properties[name] = value;
  for (const [name, d] of Object.entries(hostVarDeclarations))
    properties[name] = { description: d.doc, ...(name === 'rollgate_power' ? rollgatePowerSchema() : d.schema) };
  connectionVars.properties = properties;
  return schema;
}

/** The file's text for `base`, as `npm run schemas` writes it. */
export function inventorySchemaText(base: Schema): string {
  return JSON.stringify(inventorySchema(base), null, 2) + '\n';
}
