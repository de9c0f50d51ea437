/**
 * Target `keys-file` (pure, no server): `readKeysFile` (auth/keys-file.ts), which reads `--keys-file` at start and on
 * every change (hot reload): YAML, JSON or plain text, a list of keys or `{keys: [...]}` of strings or entries with
 * limits.
 *
 * Inputs: valid key lists written as JSON, YAML and plain text, then mutated by line and by character; entries with
 * odd fields and values; any JSON; free text. Every key in them is a marked secret.
 *
 * - It returns key records or throws its one documented error: an `Error` naming the file. Nothing else.
 * - No error message, and no process warning, quotes a key (they reach the log on a failed reload, and stderr).
 * - Valid files round-trip: the records are the keys' SHA-256 digests, in order, with the entries' names, tenants,
 *   processors, models and limits (defaults where absent).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { readKeysFile } from '../../src/auth/keys-file.js';
import type { KeyRecord } from '../../src/auth/key-policy.js';
import { expect, fuzzTarget } from './fuzz-target.js';
import { mostly, mutatedLines, mutatedText, weirdJson, weirdNumber, weirdString } from './mutators.js';

/** Keys are secrets: each generated one carries this mark, so a message quoting one is caught. */
const SECRET = 'sk-SECRET';
const secretKey = (): fc.Arbitrary<string> => fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/).map((s) => `${SECRET}${s}`);

interface Entry {
  key: string;
  name?: string;
  tenant?: string;
  processors?: string[];
  models?: string[];
  max_sessions?: number;
  max_fps?: number;
  store_results?: 'all' | 'none' | number;
}

const label = (): fc.Arbitrary<string> => fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const validEntry = (): fc.Arbitrary<Entry> =>
  fc.record(
    {
      key: secretKey(),
      name: label(),
      tenant: label(),
      processors: fc.array(label(), { maxLength: 3 }),
      models: fc.array(label(), { maxLength: 3 }),
      max_sessions: fc.integer({ min: 1, max: 1000 }),
      max_fps: fc.double({ min: 0.5, max: 240, noNaN: true }),
      store_results: fc.oneof(fc.constantFrom('all' as const, 'none' as const), fc.double({ min: 0, max: 1, noNaN: true })),
    },
    { requiredKeys: ['key'] },
  );

/** A valid file: its text and the keys (with their entries) it must give. */
const validFile = (): fc.Arbitrary<{ text: string; entries: Entry[] }> =>
  fc
    .tuple(
      fc.uniqueArray(validEntry(), { selector: (e) => e.key, minLength: 1, maxLength: 4 }),
      fc.constantFrom('json-list', 'json-keys', 'yaml-keys', 'yaml-list', 'plain', 'plain-yaml-strings'),
    )
    // Names are the records' identity only when given; two plain keys can never clash (distinct keys).
    .map(([entries, form]) => {
      const plain = form === 'plain' || form === 'plain-yaml-strings';
      const es = plain ? entries.map((e) => ({ key: e.key })) : entries;
      const text =
        form === 'json-list'
          ? JSON.stringify(es)
          : form === 'json-keys'
            ? JSON.stringify({ keys: es }, null, 2)
            : form === 'yaml-keys'
              ? toYaml({ keys: es })
              : form === 'yaml-list'
                ? toYaml(es)
                : form === 'plain'
                  ? `# keys\n${es.map((e) => `  ${e.key}  `).join('\n')}\n\n`
                  : toYaml({ keys: es.map((e) => e.key) });
      return { text, entries: es };
    });

/** An entry with odd fields and values. */
const oddEntry = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.record(
      {
        key: mostly(secretKey()),
        key_sha256: mostly(fc.stringMatching(/^[0-9a-f]{64}$/)),
        name: mostly(weirdString(140)),
        tenant: mostly(weirdString(140)),
        processors: mostly(fc.array(weirdString(10), { maxLength: 3 })),
        max_sessions: mostly(weirdNumber()),
        max_fps: mostly(weirdNumber()),
        store_results: mostly(fc.oneof(fc.constantFrom('all', 'none', 'some'), weirdNumber())),
      },
      { requiredKeys: [] },
    ),
    // The classic mistake: the key written as a mapping key.
    fc.tuple(secretKey(), weirdJson()).map(([k, v]) => ({ [k]: v })),
    secretKey(),
    weirdJson(),
  );

/** A line to insert: a key, alone or beside YAML that the parser warns about (tags, anchors, directives). */
const keysFileLine = (): fc.Arbitrary<string> =>
  fc.oneof(
    secretKey().map((k) => `  - ${k}`),
    fc
      .tuple(
        secretKey(),
        fc.constantFrom('  - key: !tag K', '  - key: !!binary K', '  - &K: 1', '%TAG K', '%K', '  - key: K # comment', '  - key: K\t', '  - key: "K'),
      )
      .map(([k, line]) => line.replace('K', k)),
    weirdString(40),
  );

const fileText = (): fc.Arbitrary<{ text: string; entries?: Entry[] }> => {
  const valid = validFile();
  const samples = fc.sample(valid, { numRuns: 12, seed: 7 }).map((v) => v.text);
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 3, arbitrary: mutatedLines(samples, keysFileLine()).map((text) => ({ text })) },
    { weight: 2, arbitrary: mutatedText(samples).map((text) => ({ text })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(oddEntry(), { maxLength: 4 }), fc.boolean())
        .map(([list, yaml]) => ({ text: yaml ? toYaml({ keys: list }) : JSON.stringify({ keys: list }) })),
    },
    { weight: 1, arbitrary: weirdJson().map((v) => ({ text: JSON.stringify(v) ?? '' })) },
    { weight: 1, arbitrary: weirdString(200).map((text) => ({ text })) },
  );
};

const digest = (key: string): string => createHash('sha256').update(key.trim(), 'utf8').digest('hex');

export const fuzzKeysFile = fuzzTarget('keys-file', { server: false }, async ({ tally }) => {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-fuzz-keys-'));
  const path = join(dir, 'keys');
  // Process warnings (a YAML parser's) reach stderr: they must not quote a key either.
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  return {
    property: fc.asyncProperty(fileText(), async ({ text, entries }) => {
      writeFileSync(path, text);
      warnings.length = 0;
      let records: KeyRecord[];
      try {
        records = readKeysFile(path);
      } catch (err) {
        await new Promise((r) => setImmediate(r));
        expect(!warnings.some((w) => w.includes(SECRET)), 'a process warning quotes a key', warnings.join('\n'));
        expect(
          err instanceof Error && err.message.startsWith(`keys file ${path}`),
          'readKeysFile threw something else than its "keys file …" error',
          String(err),
        );
        expect(!err.message.includes(SECRET), 'an error message quotes a key', err.message);
        expect(entries === undefined, `a valid keys file was refused: ${err.message}`, text);
        tally.reject();
        return;
      }
      await new Promise((r) => setImmediate(r));
      expect(!warnings.some((w) => w.includes(SECRET)), 'a process warning quotes a key', warnings.join('\n'));
      tally.accept();
      for (const r of records) {
        expect(Buffer.isBuffer(r.digest) && r.digest.length === 32, 'a record without a SHA-256 digest', r);
        expect(typeof r.policy.id === 'string' && /^[0-9a-f]{16}$/.test(r.policy.id), 'a record id is not 16 hex digits', r.policy);
      }
      if (!entries) return;
      expect(records.length === entries.length, `${entries.length} keys gave ${records.length} records`, text);
      entries.forEach((e, i) => {
        const r = records[i]!;
        const p = r.policy;
        expect(r.digest.toString('hex') === digest(e.key), `key ${i} has another digest`);
        expect(p.name === (e.name ?? p.id) && p.tenant === (e.tenant ?? e.name ?? p.id), `key ${i}: name/tenant did not round-trip`, p);
        expect(JSON.stringify(p.processors) === JSON.stringify(e.processors) && JSON.stringify(p.models) === JSON.stringify(e.models), `key ${i}: lists`, p);
        expect(p.maxSessions === e.max_sessions && p.maxFps === e.max_fps && p.storeResults === (e.store_results ?? 'all'), `key ${i}: limits`, p);
      });
    }),
    close: () => {
      process.off('warning', onWarning);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
