/**
 * Infer bench: `sightline infer-server` (the built CLI in a child process, one worker per core) under load from this
 * process through KserveHttpClient (the media nodes' client: binary tensor data both ways). Per row, for a fixed
 * time: requests/s, rows/s and latency (request sent → outputs decoded) of `clients` loops that each keep one
 * request in flight. BlazeFace back (fixed batch 1) and a YOLO-shaped detector with a dynamic batch dimension (built
 * by the bench, see synthetic-models.ts), at batch 1, 8 concurrent batch-1 requests (batched by the server, and not:
 * `--max-batch 1`) and one request of 8 rows; each over HTTP and over gRPC (KserveGrpcClient, `--grpc-port`).
 * Prints one table.
 */
import { availableParallelism, loadavg } from 'node:os';
import { percentile } from '@sightline/protocol';
import type { InferRequest, InferResponse } from '../packages/server/src/kserve/infer-messages.js';
import { KserveGrpcClient } from '../packages/server/src/kserve/kserve-grpc-client.js';
import { KserveHttpClient } from '../packages/server/src/kserve/kserve-http-client.js';
import { startInferServer, type InferServerProcess } from './infer-server-process.js';
import { cpuSeconds } from './proc-cpu.js';
import { NANO, writeConvDetector } from './synthetic-models.js';

const SECONDS = Number(process.env.BENCH_INFER_SECONDS ?? 5);

/** What the bench needs of a KServe client (KserveHttpClient; the gRPC client has the same surface). */
interface InferClient {
  infer(req: InferRequest): Promise<InferResponse>;
  close(): void;
}

interface Case {
  model: string;
  label: string;
  input: string;
  /** One row's dims (the input's shape after dim 0). */
  row: number[];
  rows: number;
  clients: number;
}

interface Row {
  protocol: string;
  server: string;
  c: Case;
  requestsPerSec: number;
  p50: number;
  p95: number;
  serverCpu: number;
  /** The server's answer when it refused the request. */
  refused?: string;
}

/** `c.clients` loops, each with one request of `c.rows` rows in flight, for SECONDS after a short warm-up. */
async function drive(server: InferServerProcess, protocol: string, makeClient: () => InferClient, c: Case, serverLabel: string): Promise<Row> {
  const perRow = c.row.reduce((a, b) => a * b, 1);
  const clients = Array.from({ length: c.clients }, makeClient);
  const requests = clients.map((_, k) => {
    const values = Float32Array.from({ length: c.rows * perRow }, (_, i) => ((i * 31 + k * 7) % 255) / 255);
    return { inputs: [{ name: c.input, datatype: 'FP32' as const, shape: [c.rows, ...c.row], values }] };
  });
  const row: Row = { protocol, server: serverLabel, c, requestsPerSec: NaN, p50: NaN, p95: NaN, serverCpu: NaN };
  try {
    try {
      for (let i = 0; i < 3; i++) await Promise.all(clients.map((cl, k) => cl.infer(requests[k]!)));
    } catch (err) {
      row.refused = (err as Error).message.replace(/^inference server answered /, '').slice(0, 140);
      return row;
    }
    const lat: number[] = [];
    const cpu0 = cpuSeconds(server.proc.pid!);
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    await Promise.all(
      clients.map(async (cl, k) => {
        while (performance.now() < end) {
          const t = performance.now();
          await cl.infer(requests[k]!);
          lat.push(performance.now() - t);
        }
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    row.serverCpu = ((cpuSeconds(server.proc.pid!) - cpu0) / wall) * 100;
    row.requestsPerSec = lat.length / wall;
    row.p50 = percentile(lat, 50) ?? NaN;
    row.p95 = percentile(lat, 95) ?? NaN;
    return row;
  } finally {
    for (const cl of clients) cl.close();
  }
}

/** Runs the infer bench and prints its table. */
export async function runInferBench(): Promise<void> {
  const conv = writeConvDetector(320, NANO);
  const back: Omit<Case, 'rows' | 'clients'> = { model: 'blazeface-back', label: 'blazeface-back (batch fixed at 1)', input: 'input:0', row: [256, 256, 3] };
  const nano: Omit<Case, 'rows' | 'clients'> = { model: 'nano', label: 'nano-detector-320 (dynamic batch)', input: 'images', row: [3, 320, 320] };
  const shapes = [
    { rows: 1, clients: 1 },
    { rows: 1, clients: 8 },
    { rows: 8, clients: 1 },
  ];
  const rows: Row[] = [];
  const http = (s: InferServerProcess, model: string) => () => new KserveHttpClient({ baseUrl: s.url, model, timeoutMs: 30_000, retries: 0 });
  // One gRPC client (one channel, one HTTP/2 connection) per loop, as one HTTP client per loop.
  const grpc = (s: InferServerProcess, model: string) => () => new KserveGrpcClient({ target: s.grpcTarget!, model, timeoutMs: 30_000, retries: 0 });
  // Two servers, batching on (the defaults) and off, both up from the start: the row that compares them (concurrent
  // batch-1 requests to the dynamic-batch model) runs on one right after the other, under the same load.
  const load0 = loadavg()[0]!;
  const on = await startInferServer(['--model', `nano=${conv}`, '--grpc-port', '0']);
  const off = await startInferServer(['--model', `nano=${conv}`, '--grpc-port', '0', '--max-batch', '1']).catch(async (err: unknown) => {
    await on.stop();
    throw err;
  });
  try {
    for (const m of [back, nano]) {
      for (const s of shapes) {
        const c = { ...m, ...s };
        const servers: Array<[InferServerProcess, string]> = [[on, 'on (--max-batch 8 --max-delay-ms 2)']];
        if (m === nano && s.rows === 1 && s.clients > 1) servers.push([off, 'off (--max-batch 1)']);
        for (const [protocol, client] of [
          ['HTTP', http],
          ['gRPC', grpc],
        ] as const) {
          for (const [server, label] of servers) {
            process.stdout.write(`measuring infer-server ${c.model} batch ${c.rows} x${c.clients} over ${protocol}, batching ${label}…\n`);
            rows.push(await drive(server, protocol, client(server, c.model), c, label));
          }
        }
      }
    }
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  console.log(
    `\nsightline infer-server (built CLI in a child process, ${availableParallelism()} workers x 1 thread, CPU), client in this process (KserveHttpClient, KserveGrpcClient) — ${SECONDS} s per row, one machine (load average ${load0.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after)\n`,
  );
  console.log('| model | protocol | request | concurrent requests | server batching | requests/s | rows/s | latency p50 ms | latency p95 ms | server CPU % |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const head = `| ${r.c.label} | ${r.protocol} | batch ${r.c.rows} | ${r.c.clients} | ${r.server}`;
    if (r.refused) console.log(`${head} | refused: ${r.refused} | | | | |`);
    else {
      console.log(`${head} | ${f(r.requestsPerSec)} | ${f(r.requestsPerSec * r.c.rows)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.serverCpu, 0)} |`);
    }
  }
  console.log('\nLatency: request encoded and sent → outputs decoded, in this process. Server CPU: all threads of the infer-server process.');
}
