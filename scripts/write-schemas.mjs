#!/usr/bin/env node
// Write schemas/playbook.schema.json from the compiled loader (run through `npm run schemas`, which builds first).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { playbookSchemaText } from '../dist/load/schema.js';

const target = fileURLToPath(new URL('../schemas/playbook.schema.json', import.meta.url));
writeFileSync(target, playbookSchemaText());
console.log(`wrote ${target}`);
