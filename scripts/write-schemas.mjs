#!/usr/bin/env node
// Write the generated schemas from the compiled registries (run through `npm run schemas`, which builds first):
// schemas/playbook.schema.json from the modules, and the generated parts of schemas/inventory.schema.json (the
// variables rollgate reads, the power drivers) into that file.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookSchemaText } from '../dist/load/schema.js';
import { inventorySchemaText } from '../dist/targets/inventory-schema.js';

const playbook = fileURLToPath(new URL('../schemas/playbook.schema.json', import.meta.url));
writeFileSync(playbook, playbookSchemaText());
console.log(`wrote ${playbook}`);

const inventory = fileURLToPath(new URL('../schemas/inventory.schema.json', import.meta.url));
writeFileSync(inventory, inventorySchemaText(JSON.parse(readFileSync(inventory, 'utf8'))));
console.log(`wrote ${inventory}`);
