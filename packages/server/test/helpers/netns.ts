import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';
import type { ServerProcess } from './server-process.js';

const run = promisify(execFile);

/**
 * A network namespace of its own (loopback only) where an nftables rule drops a share of the UDP packets delivered,
 * so WebRTC media between processes run inside it sees real packet loss (the kernel here has no netem). Root only.
 * Nothing outside the namespace is touched: its rules and its loopback are its own.
 */
export interface LossyNetns {
  name: string;
  /** Runs a command inside the namespace; its stdout. */
  exec(cmd: string[], timeoutMs?: number): Promise<string>;
  /** GET `url` from inside the namespace (a Node child): the status and body. */
  fetch(url: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
  /** The nftables counters: UDP packets that reached the loss rule, and those it dropped (0/0 without loss). */
  udpCounters(): Promise<{ udp: number; dropped: number }>;
  /** An executable that runs `target` (with its arguments) inside the namespace: for tools that want a binary path. */
  wrapper(target: string): string;
  /** Deletes the namespace (and the wrappers). Idempotent; never throws. */
  delete(): void;
}

/** Why namespaces with nftables cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root';
  const probe = `sl-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    return `\`ip netns add\` failed (iproute2 missing or no CAP_SYS_ADMIN): ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`;
  }
  try {
    execFileSync('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `nft cannot run inside a namespace (nftables missing? scripts/test.sh installs it): ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    } catch {
      // nothing to delete
    }
  }
}

/** Creates namespace `name` with its loopback up and `udpLossPercent` % of the UDP packets delivered in it dropped. */
export function createLossyNetns(name: string, udpLossPercent: number): LossyNetns {
  execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  let deleted = false;
  const ns: LossyNetns = {
    name,
    exec: async (cmd, timeoutMs = 10_000) => (await run('ip', ['netns', 'exec', name, ...cmd], { timeout: timeoutMs, encoding: 'utf8' })).stdout,
    fetch: async (url, timeoutMs = 10_000) => {
      const script = `fetch(process.argv[1],{signal:AbortSignal.timeout(${timeoutMs})}).then(async r=>process.stdout.write(JSON.stringify({status:r.status,body:await r.text()})),()=>process.stdout.write('{"status":0,"body":""}'))`;
      return JSON.parse(await ns.exec([process.execPath, '-e', script, url], timeoutMs + 5000)) as { status: number; body: string };
    },
    udpCounters: async () => {
      const rules = await ns.exec(['nft', 'list', 'table', 'inet', 'sl_loss']).catch(() => '');
      const [udp = 0, dropped = 0] = [...rules.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
      return { udp, dropped };
    },
    wrapper: (target) => {
      const path = join(dir, `${target.replace(/[^A-Za-z0-9]/g, '_')}.sh`);
      writeFileSync(path, `#!/bin/sh\nexec ip netns exec '${name}' '${target}' "$@"\n`);
      chmodSync(path, 0o755);
      return path;
    },
    delete: () => {
      if (deleted) return;
      deleted = true;
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
    if (udpLossPercent > 0) {
      // An input hook: every packet delivered in the namespace (both directions of a loopback flow) passes it once.
      // Not an output hook: a packet dropped there fails the sender's sendmsg() with EPERM, so the sender learns of the
      // loss at once (measured: 5 % dropped on output, yet only ~1.3 % of Chromium's video packets went missing and
      // the server sent 2-7 NACKs in 15 s; on input, 5 % missing and ~80 NACKs).
      const rules = [
        'table inet sl_loss {',
        '  chain in {',
        '    type filter hook input priority 0; policy accept;',
        '    meta l4proto udp counter',
        `    meta l4proto udp numgen random mod 100 < ${udpLossPercent} counter drop`,
        '  }',
        '}',
      ].join('\n');
      execFileSync('ip', ['netns', 'exec', name, 'nft', '-f', '-'], { input: rules, stdio: ['pipe', 'pipe', 'pipe'] });
    }
  } catch (err) {
    ns.delete();
    throw err;
  }
  return ns;
}

/**
 * The built `sightline serve` run inside `ns` (`ip netns exec` execs node in place: the child's pid is the server's),
 * on a free port, waiting for /readyz from inside the namespace. As startServerProcess, but reachable only from `ns`.
 */
export async function startServerInNetns(ns: LossyNetns, args: string[] = [], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServerProcess> {
  const drain = args.includes('--drain-timeout-ms') ? [] : ['--drain-timeout-ms', '1000'];
  const proc = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns.name,
      process.execPath,
      `${repoRoot}packages/server/dist/cli/main.js`,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      ...drain,
      ...args,
    ],
    { env: { ...process.env, SIGHTLINE_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const deadline = Date.now() + timeoutMs;
    let url = '';
    while (!url) {
      const m = /sightline listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) url = m[1]!;
      else if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
      else if (Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
      else await new Promise((r) => setTimeout(r, 50));
    }
    while ((await ns.fetch(`${url}/readyz`, 2000)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`server never became ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { url, port: Number(new URL(url).port), proc, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
