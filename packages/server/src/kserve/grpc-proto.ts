/**
 * The Open Inference Protocol's gRPC service (`inference.GRPCInferenceService`), read from the vendored
 * `proto/grpc_predict_v2.proto` by proto-loader: its method definitions (path, serialisers) for the client and the
 * server. Loaded on first use, not at import: the worker threads import the gRPC client with every model runner, and
 * most run no gRPC model.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

// src/kserve and dist/kserve are both two levels below the package root, where proto/ lives.
export const PROTO_FILE = fileURLToPath(new URL('../../proto/grpc_predict_v2.proto', import.meta.url));

export const SERVICE_NAME = 'inference.GRPCInferenceService';

/**
 * As the messages' TypeScript types in `grpc-messages.ts` expect them: field names as in the proto, 64-bit integers as
 * decimal strings (INT64 and UINT64 contents exact; shapes are read with `Number`), every field present (scalars at
 * their zero value, absent messages null), oneofs naming their set member.
 */
export const LOADER_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export type InferenceMethod = 'ServerLive' | 'ServerReady' | 'ModelReady' | 'ServerMetadata' | 'ModelMetadata' | 'ModelInfer';

let service: ServiceDefinition | undefined;

/** The service's definition: for `Server.addService`, and each method's path and (de)serialisers for a client. */
export function inferenceService(): ServiceDefinition {
  if (!service) {
    const pkg = loadSync(PROTO_FILE, LOADER_OPTIONS);
    service = pkg[SERVICE_NAME] as unknown as ServiceDefinition;
  }
  return service;
}
