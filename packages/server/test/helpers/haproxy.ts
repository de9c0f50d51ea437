import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface TestHaproxy {
  url: string;
  /** What HAProxy printed (its request log goes to stdout). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Debian's HAProxy in front of `backends`, from `config`: the text of a haproxy.cfg (the shipped deploy/haproxy.cfg)
 * whose `bind` and `server` lines are replaced by loopback ones, so the tested balancing, checks and timeouts are the
 * shipped ones. Runs in the foreground (`-db`) as a child process.
 */
export async function startHaproxy(config: string, backends: { name: string; port: number }[]): Promise<TestHaproxy> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sightline-haproxy-'));
  const out: string[] = [];
  let binds = 0;
  let servers = 0;
  for (const line of config.split('\n')) {
    if (/^\s*server\s/.test(line)) {
      // Each backend's run of server lines becomes the test's nodes (the backend's default-server line still applies).
      if (/^\s*server\s/.test(out.at(-1) ?? '')) continue;
      servers++;
      for (const b of backends) out.push(`    server ${b.name} 127.0.0.1:${b.port}`);
    } else if (/^\s*bind\s/.test(line)) {
      // The first bind is the balancer's own; any other (the stats page) moves to a free port.
      out.push(line.replace(/^(\s*bind\s+)\S+/, `$1127.0.0.1:${binds++ === 0 ? port : await freePort()}`));
    } else {
      out.push(line);
    }
  }
  if (servers === 0) throw new Error('the haproxy config has no server line to replace');
  const text = out.join('\n');
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, text);
  const proc: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await fetch(`${url}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (up) break;
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`haproxy did not start (apt-get install haproxy; scripts/test.sh does it):\n${log}\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
