import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './paths.js';

export interface InferServerProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** SIGKILL (a crash: no goodbye to anyone) and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * The built `sightline infer-server` as a child process on `port` (fixed, so that it can come back on the same
 * address after a kill), resolved once `/v2/health/ready` answers 200.
 */
export async function startInferServerProcess(port: number, args: string[] = [], timeoutMs = 60_000): Promise<InferServerProcess> {
  const proc = spawn(
    process.execPath,
    [`${repoRoot}packages/server/dist/cli/main.js`, 'infer-server', '--host', '127.0.0.1', '--port', String(port), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${url}/v2/health/ready`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ready) break;
    if (proc.exitCode !== null) throw new Error(`infer-server exited with ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`infer-server did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    proc,
    output: () => out,
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
