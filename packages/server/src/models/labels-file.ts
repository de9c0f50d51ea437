import { readFileSync } from 'node:fs';
import { parseClassNames } from './onnx-metadata.js';

/** Class names from a file: a JSON array or object, a `{0: 'name', …}` dict, or one name a line. */
export function readLabelsFile(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    const labels = parseClassNames(t);
    if (labels.length === 0) throw new Error(`labels file ${path}: no names found`);
    return labels;
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
