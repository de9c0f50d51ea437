/**
 * `sightline infer-server --grpc-port`: the Open Inference Protocol (KServe v2) over gRPC
 * (`inference.GRPCInferenceService`, `proto/grpc_predict_v2.proto`) beside the REST API, on the same worker pool and
 * with the same models, checks and messages (`served-models.ts`). Inputs as raw contents or typed contents; outputs
 * always as raw contents, as Triton answers. Errors are gRPC statuses: NOT_FOUND for an unknown model or version,
 * INVALID_ARGUMENT for a request that does not fit the model, UNAVAILABLE when the pool refuses (a client retries).
 */
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js';
import {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type GrpcInferRequest,
  type GrpcInferResponse,
  type GrpcModelMetadata,
} from '../kserve/grpc-messages.js';
import { inferenceService, type InferenceMethod } from '../kserve/grpc-proto.js';
import { TensorDataError } from '../kserve/tensor-data.js';
import { findModel, inferOnPool, InferServerError, modelMetadata, poolReady, SERVER_NAME, type ServedPool } from './served-models.js';

export interface InferGrpcServerOptions {
  pool: ServedPool;
  version: string;
  host: string;
  /** 0 for any free port. */
  port: number;
  /** Largest request (default 64 MiB, as the REST API's body limit; gRPC's own default is 4 MiB). */
  maxMessageBytes?: number;
}

export interface InferGrpcServer {
  /** The port bound (the one chosen when 0 was asked). */
  readonly port: number;
  /** Stops taking calls, waits for those running (at most `graceMs`, default 5 s), then ends them. */
  close(graceMs?: number): Promise<void>;
}

const GRPC_STATUS: Record<InferServerError['kind'], status> = {
  not_found: status.NOT_FOUND,
  invalid: status.INVALID_ARGUMENT,
  unavailable: status.UNAVAILABLE,
};

interface ModelRef {
  name: string;
  version: string;
}

/** One unary handler: its answer, or the error it throws as the status it stands for. */
function unary<Req, Res>(handle: (req: Req) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => handle(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => {
          const code = err instanceof InferServerError ? GRPC_STATUS[err.kind] : err instanceof TensorDataError ? status.INVALID_ARGUMENT : status.INTERNAL;
          callback({ code, details: err instanceof Error ? err.message : String(err) });
        },
      );
  };
}

export async function startInferGrpcServer(opts: InferGrpcServerOptions): Promise<InferGrpcServer> {
  const { pool } = opts;
  // An empty version is the protocol's "let the server choose".
  const model = (r: ModelRef) => findModel(pool, r.name, r.version ? r.version : undefined);
  const handlers = {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: poolReady(pool) })),
    // NOT_FOUND for a model not served, as REST's 404 (a client reads either as "not ready").
    ModelReady: unary((r: ModelRef) => {
      model(r);
      return { ready: poolReady(pool) };
    }),
    ServerMetadata: unary(() => ({ name: SERVER_NAME, version: opts.version, extensions: [] })),
    ModelMetadata: unary((r: ModelRef): GrpcModelMetadata => modelMetadata(model(r))),
    ModelInfer: unary(async (r: GrpcInferRequest): Promise<GrpcInferResponse> => {
      const m = model({ name: r.model_name, version: r.model_version ?? '' });
      return encodeGrpcInferResponse(await inferOnPool(pool, m, decodeGrpcInferRequest(r)));
    }),
  } satisfies Record<InferenceMethod, UntypedHandleCall>;
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? 64 * 1024 * 1024,
    'grpc.max_send_message_length': opts.maxMessageBytes ?? 64 * 1024 * 1024,
  });
  server.addService(inferenceService(), handlers);
  const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
