/**
 * Writes the JSON Schema of every HTTP body and DataChannel message, for clients in other languages.
 * Usage: node dist/export-json-schema.js OUT.json
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import * as schemas from './index.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: export-json-schema OUT.json');
  process.exit(2);
}
const defs: Record<string, unknown> = {};
for (const [name, value] of Object.entries(schemas)) {
  if (value instanceof z.ZodType) defs[name] = z.toJSONSchema(value, { io: 'input' });
}
writeFileSync(out, JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: defs }, null, 2));
console.log(`wrote ${Object.keys(defs).length} schemas to ${out}`);
