import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export interface TestPostgres {
  /** A URL of a fresh database on this server (`postgres://postgres@127.0.0.1:PORT/sightline_test`). */
  url: string;
  /** Another fresh, empty database on the same server. */
  newDatabase(): Promise<string>;
  /** Stops the server (fast shutdown: open connections are cut) keeping its data; `up()` starts it again. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

/** Debian's PostgreSQL binaries (/usr/lib/postgresql/<newest>/bin), or null when it is not installed. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/**
 * A private PostgreSQL server for tests: a new cluster in a temp folder (initdb, trust auth), listening on
 * 127.0.0.1 on a free port with its socket in the data folder — nothing of the system's cluster or service is used.
 * PostgreSQL refuses to run as root, so as root (CI) the cluster belongs to the `postgres` user and every command
 * runs through `runuser`.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh does it)');
  const asRoot = process.getuid?.() === 0;
  // As root the `postgres` user must reach the folder: /tmp is always traversable, a custom TMPDIR may not be.
  const dir = mkdtempSync(join(asRoot ? '/tmp' : tmpdir(), 'sightline-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]): string => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    try {
      return execFileSync(cmd as string, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).toString();
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`${tool} failed: ${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, { cause: err });
    }
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=100`;
  let running = false;
  const up = async (): Promise<void> => {
    run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    running = true;
  };
  const down = async (): Promise<void> => {
    if (!running) return;
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  await up();

  const base = `postgres://postgres@127.0.0.1:${port}`;
  let n = 0;
  const newDatabase = async (): Promise<string> => {
    const name = `sightline_test_${++n}`;
    const c = new pg.Client({ connectionString: `${base}/postgres` });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    return `${base}/${name}`;
  };
  const url = await newDatabase();
  return {
    url,
    newDatabase,
    down,
    up,
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
