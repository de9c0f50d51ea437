/**
 * Crash consistency: a child process writes a session and a stream of results through the store (flushes every
 * 200 ms) and prints `flushed <rows written>` after each committed flush; it is killed with SIGKILL mid-stream.
 * Reopened, the database has every row reported, results form a gapless prefix of what was recorded, migrations
 * re-run cleanly and no result points at a missing session. The file is also the child (SIGHTLINE_STORE_CHILD=1).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS, type OpenStoreOptions, SCHEMA_VERSION, type SessionStore, openStore } from '../../src/store/index.js';

/** Every migration ran, once each, up to the newest. */
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);
assert.equal(ALL_VERSIONS.at(-1), SCHEMA_VERSION);
import { type TestPostgres, postgresBinDir, startPostgres } from '../helpers/postgres.js';

const TENANT = 'crash-tenant';

/** Child: record as fast as a busy server would (~40k results/s), report each committed flush. */
async function child(): Promise<void> {
  const sessionId = process.env.SESSION_ID!;
  const opts: OpenStoreOptions = {
    flushIntervalMs: 200,
    onFlush: ({ stats }) => process.stdout.write(`flushed ${stats.written}\n`),
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { sqlitePath: process.env.SQLITE_PATH! }),
  };
  const store = await openStore(opts);
  store.recordSessionStart({
    id: sessionId,
    tenant: TENANT,
    keyId: 'k',
    userId: null,
    processor: 'face',
    params: {},
    transport: 'webrtc',
    startedAt: Date.now(),
  });
  let frame = 0;
  setInterval(() => {
    for (let i = 0; i < 200; i++) {
      store.recordResult(
        sessionId,
        { type: 'result', frame_id: frame++, boxes: [{ x: 1, y: 2, w: 3, h: 4, score: 0.5 }], width: 640, height: 480 },
        Date.now(),
      );
    }
  }, 5);
  process.stdout.write('ready\n');
}

if (process.env.SIGHTLINE_STORE_CHILD) {
  await child();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'sightline-store-crash-'));
  let pgServer: TestPostgres | undefined;
  after(async () => {
    await pgServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the child until it has reported `flushes` flushes, kills it at a random moment; the last count reported. */
  async function runAndKill(env: Record<string, string>, flushes: number): Promise<number> {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, ...env, SIGHTLINE_STORE_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let last = 0;
    let seen = 0;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not report ${flushes} flushes: ${out}${err}`)), 30_000);
      proc.once('exit', (code) => reject(new Error(`child exited ${code}: ${out}${err}`)));
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const lines = out.split('\n');
        out = lines.pop()!;
        for (const line of lines) {
          const m = /^flushed (\d+)$/.exec(line);
          if (!m) continue;
          last = Number(m[1]);
          if (++seen === flushes) {
            clearTimeout(timer);
            // Somewhere in the next interval: often in the middle of a flush's transaction.
            setTimeout(() => {
              proc.kill('SIGKILL');
              resolve();
            }, Math.random() * 250);
          }
        }
      });
    });
    await exited;
    // Lines that arrived between the decision and the kill still count: every one reported a committed flush.
    for (const line of out.split('\n')) {
      const m = /^flushed (\d+)$/.exec(line);
      if (m) last = Number(m[1]);
    }
    return last;
  }

  async function frameIds(store: SessionStore, sessionId: string): Promise<number[]> {
    const ids: number[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listResults({ tenant: TENANT, sessionId, limit: 1000, ...(after ? { after } : {}) });
      assert.ok(page, 'the session row exists');
      ids.push(...page.results.map((r) => r.frame_id!));
      if (!page.next_cursor) return ids;
      after = page.next_cursor;
    }
  }

  const cases: {
    name: string;
    skip: string | false;
    setup: () => Promise<{ env: Record<string, string>; open: () => Promise<SessionStore>; check: () => Promise<void> }>;
  }[] = [
    {
      name: 'sqlite',
      skip: false,
      setup: async () => {
        const path = join(dir, 'crash.db');
        return {
          env: { SQLITE_PATH: path },
          open: () => openStore({ sqlitePath: path, flushIntervalMs: 3_600_000 }),
          check: async () => {
            const db = new Database(path, { readonly: true });
            try {
              assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
              assert.deepEqual(db.pragma('foreign_key_check'), []);
              assert.equal(db.prepare('SELECT COUNT(*) FROM results r LEFT JOIN sessions s ON s.id = r.session_id WHERE s.id IS NULL').pluck().get(), 0);
              assert.deepEqual(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), ALL_VERSIONS);
            } finally {
              db.close();
            }
          },
        };
      },
    },
    {
      name: 'postgres',
      skip: postgresBinDir() || process.env.CI ? false : 'PostgreSQL is not installed (CI installs it and never skips)',
      setup: async () => {
        pgServer = await startPostgres();
        const url = pgServer.url;
        return {
          env: { DATABASE_URL: url },
          open: () => openStore({ databaseUrl: url, flushIntervalMs: 3_600_000 }),
          check: async () => {
            const c = new pg.Client({ connectionString: url });
            await c.connect();
            try {
              const orphans = await c.query('SELECT COUNT(*)::int AS n FROM results r LEFT JOIN sessions s ON s.id = r.session_id WHERE s.id IS NULL');
              assert.equal(orphans.rows[0].n, 0);
              const versions = await c.query('SELECT version FROM schema_migrations ORDER BY version');
              assert.deepEqual(
                versions.rows.map((r) => r.version),
                ALL_VERSIONS,
              );
            } finally {
              await c.end();
            }
          },
        };
      },
    },
  ];

  for (const c of cases) {
    describe(`store crash consistency (${c.name})`, { skip: c.skip }, () => {
      test('SIGKILL mid-stream loses nothing reported as flushed, leaves a consistent database', async () => {
        const { env, open, check } = await c.setup();
        for (let round = 1; round <= 3; round++) {
          const sessionId = `crash-${round}`;
          const reported = await runAndKill({ ...env, SESSION_ID: sessionId }, 3 + round);
          assert.ok(reported > 1, 'the child reported flushes');
          const store = await open(); // migrations re-run on a database a killed process left
          const ids = await frameIds(store, sessionId);
          // `written` counts the session start, then results in recorded order: a gapless prefix.
          assert.ok(ids.length >= reported - 1, `round ${round}: ${ids.length} results stored, ${reported - 1} reported flushed`);
          assert.deepEqual(
            ids,
            Array.from({ length: ids.length }, (_, i) => i),
            'results are a gapless prefix, in order',
          );
          const s = await store.getSession(TENANT, sessionId);
          assert.equal(s?.ended_at, null);
          await store.close();
          await check();
          console.log(`[${c.name}] round ${round}: reported ${reported - 1} results flushed, found ${ids.length}`);
        }
      });
    });
  }
}
