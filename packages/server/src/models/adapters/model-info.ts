import type { InputSpec } from '../preprocess.js';
import type { ValueInfo } from './adapter.js';
import type { AdapterName } from './registry.js';

/** Where models run: onnxruntime's CPU, CUDA or TensorRT execution provider. */
export type Device = 'cpu' | 'cuda' | 'tensorrt';

/** What is known of a loaded model; serialisable (worker → main thread, and GET /v1/models). */
export interface ModelInfo {
  name: string;
  adapter: AdapterName;
  kind: 'detector' | 'classifier';
  /** File name only: paths of the host are not published. */
  file: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  input: Pick<InputSpec, 'width' | 'height' | 'layout' | 'channels' | 'dtype' | 'resize'>;
  labels: string[] | null;
  /** True when the model's batch dimension is dynamic: frames of several sessions can share a run. */
  dynamicBatch: boolean;
  maxBatch: number;
  device: string;
}

/** A model to load: from the catalog or from `--model`. */
export interface ModelSpec {
  name: string;
  file: string;
  /** Adapter to use; detected from the model when absent. */
  adapter?: AdapterName | undefined;
  /** Class names; else from the model's metadata. */
  labels?: string[] | undefined;
  /**
   * A model served by a KServe v2 server (`--model NAME=kserve+http://HOST:PORT/MODEL`, or `kserve+grpc://`); `file`
   * is then that URL. `url` is the HTTP base URL (`http://host:port/prefix`), or the gRPC target (`host:port`).
   */
  remote?: { url: string; model: string; version?: string | undefined; protocol: 'http' | 'grpc' } | undefined;
}
