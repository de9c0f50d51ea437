/**
 * `sightline infer-server [--host H] [--port P] [--grpc-port G] [--model FILE.onnx|NAME=FILE.onnx …] [--workers N]` —
 * Sightline's own KServe v2 (Open Inference Protocol) server over HTTP/REST, and gRPC with `--grpc-port`: the built-in
 * BlazeFace models and the given ONNX files, on the local worker pool, for media nodes that name them as
 * `--model NAME=kserve+http://HOST:PORT/MODEL` or `kserve+grpc://HOST:G/MODEL`.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { startInferGrpcServer, type InferGrpcServer } from '../infer-server/infer-grpc-server.js';
import { buildInferServer } from '../infer-server/infer-server-app.js';
import { InferencePool } from '../models/inference-pool.js';
import type { ModelSpec } from '../models/adapters/model-info.js';
import { BUILTIN_MODELS, parseModelArg } from '../models/model-catalog.js';

export const INFER_SERVER_USAGE = `Usage: sightline infer-server [options]   (KServe v2 over HTTP, and gRPC)
  --host H               address to listen on (default 0.0.0.0)
  --port P               HTTP port (default 8000)
  --grpc-port G          also serve KServe v2 over gRPC on port G (Triton's is 8001; default: no gRPC)
  --model M              FILE.onnx, NAME=FILE.onnx or NAME=FILE.onnx@adapter (repeatable); the built-in
                         blazeface-back and blazeface-front are always served
  --workers N            inference worker threads (default one per core)
  --intra-op-threads N   onnxruntime threads per worker (default 1)
  --max-batch N          most rows of concurrent requests run together, for models with a dynamic batch
                         dimension (default 8; 1: every request runs alone)
  --max-delay-ms N       longest a request waits for others to share its run while a worker is idle (default 2)`;

export interface InferServerArgs {
  host: string;
  port: number;
  /** The gRPC listener's port; none when undefined. */
  grpcPort: number | undefined;
  models: ModelSpec[];
  workers: number;
  intraOpThreads: number;
  maxBatch: number;
  maxDelayMs: number;
}

/** The command's arguments; `'help'` for --help; throws on anything wrong. */
export function parseInferServerArgs(argv: string[]): InferServerArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '8000' },
      'grpc-port': { type: 'string' },
      model: { type: 'string', multiple: true, default: [] },
      workers: { type: 'string' },
      'intra-op-threads': { type: 'string', default: '1' },
      'max-batch': { type: 'string', default: '8' },
      'max-delay-ms': { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const int = (name: string, v: string | undefined, min: number, max: number, dflt: number): number => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const models = values.model.map((m) => parseModelArg(m));
  if (models.some((m) => m.remote)) throw new Error('--model: the infer-server runs ONNX files itself, not remote models');
  if (values['grpc-port'] !== undefined && values['grpc-port'] === values.port && values.port !== '0') {
    throw new Error('--grpc-port must differ from --port: HTTP and gRPC listen apart');
  }
  return {
    host: values.host,
    port: int('port', values.port, 0, 65535, 8000),
    grpcPort: values['grpc-port'] === undefined ? undefined : int('grpc-port', values['grpc-port'], 0, 65535, 0),
    models,
    workers: int('workers', values.workers, 1, 256, availableParallelism()),
    intraOpThreads: int('intra-op-threads', values['intra-op-threads'], 1, 256, 1),
    maxBatch: int('max-batch', values['max-batch'], 1, 256, 8),
    maxDelayMs: int('max-delay-ms', values['max-delay-ms'], 0, 1000, 2),
  };
}

/** Runs until SIGTERM/SIGINT; returns an exit status for bad arguments. */
export async function inferServerCommand(argv: string[]): Promise<number | undefined> {
  let args: InferServerArgs | 'help';
  try {
    args = parseInferServerArgs(argv);
  } catch (err) {
    console.error(`sightline infer-server: ${(err as Error).message}\n\n${INFER_SERVER_USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(INFER_SERVER_USAGE);
    return 0;
  }
  let pool: InferencePool;
  try {
    pool = await InferencePool.create({
      models: [...BUILTIN_MODELS, ...args.models],
      size: args.workers,
      intraOpNumThreads: args.intraOpThreads,
      maxBatch: args.maxBatch,
      maxDelayMs: args.maxDelayMs,
    });
  } catch (err) {
    console.error(`sightline infer-server: ${(err as Error).message}`);
    return 2;
  }
  const version = process.env.npm_package_version ?? '0.1.0';
  const app = await buildInferServer({ pool, version });
  const address = await app.listen({ host: args.host, port: args.port });
  console.log(`sightline infer-server listening on ${address} (KServe v2 HTTP; models: ${pool.models.map((m) => m.name).join(', ')})`);
  let grpc: InferGrpcServer | undefined;
  if (args.grpcPort !== undefined) {
    try {
      grpc = await startInferGrpcServer({ pool, version, host: args.host, port: args.grpcPort });
    } catch (err) {
      console.error(`sightline infer-server: gRPC port ${args.grpcPort}: ${(err as Error).message}`);
      await app.close();
      await pool.close();
      return 2;
    }
    console.log(`sightline infer-server listening on ${args.host}:${grpc.port} (KServe v2 gRPC)`);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  // Both listeners stop taking calls and finish those running before the pool that runs them goes.
  await Promise.all([app.close(), grpc?.close()]);
  await pool.close();
  return 0;
}
