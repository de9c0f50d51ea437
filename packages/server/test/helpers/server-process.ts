import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './paths.js';

export interface ServerProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs the built `sightline serve` as a real child process on a free port (--port 0) and waits for /readyz.
 * Needs `npm run build` first (the test script does it).
 */
export async function startServerProcess(args: string[] = [], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServerProcess> {
  // Tests stop servers with live sessions all the time: a short drain unless the test sets its own.
  const drain = args.includes('--drain-timeout-ms') ? [] : ['--drain-timeout-ms', '1000'];
  const proc = spawn(process.execPath, [`${repoRoot}packages/server/dist/cli/main.js`, 'serve', '--host', '127.0.0.1', '--port', '0', ...drain, ...args], {
    env: { ...process.env, SIGHTLINE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  let url = '';
  while (!url) {
    const m = /sightline listening on (http:\/\/[^\s]+)/.exec(out);
    if (m) url = m[1]!;
    else if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    else if (Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  while (
    (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status)
      .catch(() => 0)) !== 200
  ) {
    if (Date.now() > deadline) throw new Error(`server never became ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      // A server that does not stop within 15 s is killed: a test must never wait forever.
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
