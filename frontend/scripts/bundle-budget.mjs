// Fails when the JavaScript a first visit loads, gzipped, exceeds the budget.
// "First visit" is the entry chunk of index.html and every chunk it imports statically, read
// from the manifest that `vite build` writes; pages loaded on demand are not part of it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 70 * 1024;
const dist = path.resolve(import.meta.dirname, '../dist');
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite/manifest.json'), 'utf8'));

const initial = new Set();
const visit = (key) => {
  if (initial.has(key)) return;
  initial.add(key);
  for (const imported of manifest[key].imports ?? []) visit(imported);
};
visit('index.html');

let total = 0;
for (const key of initial) {
  const file = manifest[key].file;
  if (!file.endsWith('.js')) continue;
  const size = gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`  ${file}  ${(size / 1024).toFixed(1)} KiB gzipped`);
}
const verdict = total <= BUDGET_BYTES ? 'within' : 'OVER';
console.log(
  `Initial JavaScript: ${(total / 1024).toFixed(1)} KiB gzipped, ${verdict} the budget of ${BUDGET_BYTES / 1024} KiB`,
);
if (total > BUDGET_BYTES) process.exit(1);
