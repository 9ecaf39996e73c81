/**
 * schemas/inventory.schema.json's variable part, generated from the registries: `rollgate_power` from the power
 * drivers (src/power/registry.ts). The group structure stays as written in the file; `npm run schemas` rewrites
 * the generated part, and a unit test fails when the file and the registries disagree.
 */
import { rollgatePowerSchema } from '../power/registry.js';

type Schema = Record<string, unknown>;

/** The inventory schema `base` (the file's current content) with its generated parts replaced. */
export function inventorySchema(base: Schema): Schema {
  const schema = structuredClone(base);
  const definitions = schema.definitions as Record<string, Schema>;
  const connectionVars = definitions.connectionVars as { properties: Record<string, Schema> };
  const previous = connectionVars.properties.rollgate_power ?? {};
  connectionVars.properties.rollgate_power = {
    description: previous.description,
    ...rollgatePowerSchema(),
  };
  return schema;
}

/** The file's text for `base`, as `npm run schemas` writes it. */
export function inventorySchemaText(base: Schema): string {
  return JSON.stringify(inventorySchema(base), null, 2) + '\n';
}
