import type { Adapter, ValueInfo } from './adapter.js';
import { blazeface } from './blazeface.js';
import { classifier } from './classifier.js';
import { ssd } from './ssd.js';
import { yolo } from './yolo.js';

/** Every adapter. A new one: its file, and a line here. Order breaks ties between equal `detect` ranks. */
const ALL = [yolo, ssd, classifier, blazeface] as const;

export type AdapterName = (typeof ALL)[number]['name'];
/** Their names, for `--adapter` and `--model …@adapter`. */
export const ADAPTERS: readonly AdapterName[] = ALL.map((a) => a.name);

export function adapterNamed(name: AdapterName): Adapter<AdapterName> {
  return ALL.find((a) => a.name === name)!;
}

/** Picks the adapter that fits the model's inputs, outputs and metadata best; explains itself when none does. */
export function detectAdapter(inputs: ValueInfo[], outputs: ValueInfo[], meta: Record<string, string>, file = 'model'): AdapterName {
  let best: Adapter<AdapterName> | undefined;
  let bestRank = 0;
  for (const a of ALL) {
    const rank = a.detect({ inputs, outputs, meta });
    if (rank > bestRank) [best, bestRank] = [a, rank];
  }
  if (best) return best.name;
  throw new Error(
    `${file}: cannot tell which adapter fits (outputs ${JSON.stringify(outputs.map((o) => [o.name, o.shape]))}); pass --adapter ${ADAPTERS.join('|')}`,
  );
}
