import { createHash, timingSafeEqual } from 'node:crypto';
import { plainKey, type KeyPolicy, type KeyRecord } from './key-policy.js';

export { readKeysFile } from './keys-file.js';

/**
 * The API keys the server accepts, with each key's policy (tenant, limits). Keys are kept as SHA-256 digests and
 * compared in constant time (every stored digest is compared, whatever matches), so neither timing nor a heap dump
 * reveals them. `replace` swaps the whole set at once (keys file hot reload): live sessions keep running, new
 * requests see the new keys and limits.
 */
export class KeyStore {
  #records: KeyRecord[];
  #byId: Map<string, KeyPolicy>;

  constructor(keys: ReadonlyArray<string | KeyRecord>) {
    this.#records = [];
    this.#byId = new Map();
    this.replace(keys);
  }

  get size(): number {
    return this.#records.length;
  }

  /** Swaps in a new set of keys (duplicates: the first wins). */
  replace(keys: ReadonlyArray<string | KeyRecord>): void {
    const records = keys
      .filter((k) => typeof k !== 'string' || k.trim().length > 0)
      .map((k) => (typeof k === 'string' ? plainKey(k) : k))
      .filter((r, i, all) => all.findIndex((o) => o.policy.id === r.policy.id) === i);
    this.#records = records;
    this.#byId = new Map(records.map((r) => [r.policy.id, r.policy]));
  }

  /** The key's id when it is valid, else undefined. */
  check(key: string): string | undefined {
    const d = createHash('sha256').update(key, 'utf8').digest();
    let found: KeyRecord | undefined;
    for (const r of this.#records) {
      if (timingSafeEqual(d, r.digest)) found = r;
    }
    return found?.policy.id;
  }

  /** The policy of a key id (as `check` returned it); undefined once the key was removed from the file. */
  policy(id: string): KeyPolicy | undefined {
    return this.#byId.get(id);
  }
}
