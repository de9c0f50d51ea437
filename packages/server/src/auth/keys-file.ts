import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { keyDigest, keyIdOfDigest, plainKey, type KeyRecord } from './key-policy.js';

/** One entry of a keys file. */
const Entry = z
  .object({
    key: z.string().min(1).optional(),
    /** The key's SHA-256 (hex) instead of the key itself, so the file holds no secret. */
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'key_sha256 must be 64 hex digits')
      .optional(),
    name: z.string().min(1).max(128).optional(),
    tenant: z.string().min(1).max(128).optional(),
    processors: z.array(z.string().min(1)).optional(),
    models: z.array(z.string().min(1)).optional(),
    max_sessions: z.number().int().positive().optional(),
    max_fps: z.number().positive().max(240).optional(),
    store_results: z.union([z.enum(['all', 'none']), z.number().min(0).max(1)]).optional(),
  })
  .strict()
  .refine((e) => (e.key === undefined) !== (e.key_sha256 === undefined), 'each entry needs exactly one of "key" or "key_sha256"');

/**
 * Reads a keys file: YAML or JSON — a list of keys, or `{keys: [...]}` where each entry is a key string or an object
 * `{key | key_sha256, name, tenant, processors, models, max_sessions, max_fps, store_results}` — or plain text with
 * one key per line (`#` comments). Errors name the file and entry, never a key.
 */
export function readKeysFile(path: string): KeyRecord[] {
  const text = readFileSync(path, 'utf8');
  const trimmed = text.trim();
  let doc: unknown;
  const structured = /^[[{]/.test(trimmed) || /^\s*(keys\s*:|-\s)/m.test(text);
  if (!structured) {
    return text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'))
      .map(plainKey);
  }
  try {
    // Warnings are not printed (logLevel 'error'): the yaml package's quote the file's line, keys included.
    doc = trimmed.startsWith('[') || trimmed.startsWith('{') ? JSON.parse(trimmed) : parseYaml(text, { logLevel: 'error' });
  } catch {
    // The parser's message may quote the file's text, keys included: name the file only.
    throw new Error(`keys file ${path} is not valid ${trimmed.startsWith('[') || trimmed.startsWith('{') ? 'JSON' : 'YAML'}`);
  }
  const list = Array.isArray(doc)
    ? doc
    : typeof doc === 'object' && doc !== null && Array.isArray((doc as { keys?: unknown }).keys)
      ? (doc as { keys: unknown[] }).keys
      : undefined;
  if (!list) throw new Error(`keys file ${path}: expected a list of keys or {keys: [...]}`);
  const records = list.map((item, i): KeyRecord => {
    if (typeof item === 'string' && item.trim().length > 0) return plainKey(item);
    const parsed = Entry.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      // An unknown field is not quoted: it may be a key written as a field name (`- sk_live_…: {name: …}`).
      const message = issue.code === 'unrecognized_keys' ? `unknown field; the fields are ${Object.keys(Entry.shape).join(', ')}` : issue.message;
      throw new Error(
        `keys file ${path}: at keys.${[i, ...issue.path].join('.')}: ${typeof item === 'object' ? message : 'expected a key string or an object'}`,
      );
    }
    const e = parsed.data;
    const digest = e.key !== undefined ? keyDigest(e.key) : Buffer.from(e.key_sha256!, 'hex');
    const id = keyIdOfDigest(digest);
    const name = e.name ?? id;
    return {
      digest,
      policy: {
        id,
        name,
        tenant: e.tenant ?? name,
        processors: e.processors,
        models: e.models,
        maxSessions: e.max_sessions,
        maxFps: e.max_fps,
        storeResults: e.store_results ?? 'all',
      },
    };
  });
  const ids = new Set<string>();
  for (const r of records) {
    if (ids.has(r.policy.id)) throw new Error(`keys file ${path}: the key named "${r.policy.name}" appears twice`);
    ids.add(r.policy.id);
  }
  return records;
}
