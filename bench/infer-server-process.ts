/** The built `sightline infer-server` in a child process of its own, for the infer and remote benches. */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../packages/server/test/helpers/paths.js';

export interface InferServerProcess {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** `127.0.0.1:PORT` of its gRPC listener, when started with `--grpc-port`. */
  grpcTarget: string | undefined;
  proc: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, and SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
}

/**
 * Starts `node packages/server/dist/cli/main.js infer-server --host 127.0.0.1 --port 0 …args` (needs `npm run build`,
 * which `npm run bench` does) and waits for its listening lines (HTTP, and gRPC with `--grpc-port`) and
 * /v2/health/ready.
 */
export async function startInferServer(args: string[] = [], timeoutMs = 60_000): Promise<InferServerProcess> {
  const proc = spawn(process.execPath, [`${repoRoot}packages/server/dist/cli/main.js`, 'infer-server', '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    let url = '';
    let grpcTarget: string | undefined;
    const grpc = args.includes('--grpc-port');
    while (!url || (grpc && !grpcTarget)) {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      const g = /listening on ([^\s]+) \(KServe v2 gRPC\)/.exec(out);
      if (m && (!grpc || g)) {
        url = m[1]!;
        grpcTarget = g?.[1];
      } else if (proc.exitCode !== null) throw new Error(`infer-server exited with ${proc.exitCode}:\n${out}`);
      else if (Date.now() > deadline) throw new Error(`infer-server did not start:\n${out}`);
      else await new Promise((r) => setTimeout(r, 50));
    }
    while (
      (await fetch(`${url}/v2/health/ready`).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    ) {
      if (Date.now() > deadline) throw new Error(`infer-server never became ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { url, port: Number(new URL(url).port), grpcTarget, proc, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
