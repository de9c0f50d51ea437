import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyIdOf } from '../session/session-manager.js';

/**
 * The API keys the server accepts. Keys are kept as SHA-256 digests and compared in constant time
 * (every stored digest is compared, whatever matches), so neither timing nor a heap dump reveals them.
 */
export class KeyStore {
  readonly #digests: Buffer[];
  readonly #ids: string[];

  constructor(keys: readonly string[]) {
    const unique = [...new Set(keys.map((k) => k.trim()).filter((k) => k.length > 0))];
    this.#digests = unique.map(digest);
    this.#ids = unique.map(keyIdOf);
  }

  get size(): number {
    return this.#digests.length;
  }

  /** The key's id when it is valid, else undefined. */
  check(key: string): string | undefined {
    const d = digest(key);
    let found = -1;
    for (let i = 0; i < this.#digests.length; i++) {
      if (timingSafeEqual(d, this.#digests[i]!)) found = i;
    }
    return found >= 0 ? this.#ids[found] : undefined;
  }
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * Reads a keys file: either JSON (an array of strings, or `{ "keys": [...] }`) or text with one key per line
 * (blank lines and `#` comments ignored).
 */
export function readKeysFile(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      // The parser's message quotes the file's text, keys included: name the file only.
      throw new Error(`keys file ${path} starts like JSON but is not valid JSON`);
    }
    const list = Array.isArray(json) ? json : (json as { keys?: unknown }).keys;
    if (!Array.isArray(list) || !list.every((k) => typeof k === 'string')) {
      throw new Error(`keys file ${path}: expected a JSON array of strings or {"keys": [...]}`);
    }
    return list;
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}
