// Validates an AsyncAPI document with the AsyncAPI initiative's own parser.
// Usage: node scripts/validate-asyncapi.mjs docs/asyncapi.json
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const path = process.argv[2] ?? 'docs/asyncapi.json';
const { document, diagnostics } = await new Parser().parse(readFileSync(path, 'utf8'));
const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
for (const diagnostic of diagnostics) {
  const where = diagnostic.path.join('.') || '(document)';
  const kind = ['error', 'warning', 'information', 'hint'][diagnostic.severity];
  console.error(`${kind}: ${where}: ${diagnostic.message}`);
}
if (document === undefined || errors.length > 0) {
  console.error(`${path}: not a valid AsyncAPI document (${errors.length} errors)`);
  process.exit(1);
}
console.log(
  `${path}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels`,
);
