import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelSpec } from './adapters/model-info.js';
import { ADAPTERS, type AdapterName } from './adapters/registry.js';

// src/models and dist/models are both two levels below the package root, where models/ lives.
const modelsDir = fileURLToPath(new URL('../../models/', import.meta.url));

/** The models shipped with the server: BlazeFace back (256 px) and front (128 px). */
export const BUILTIN_MODELS: readonly ModelSpec[] = [
  { name: 'blazeface-back', adapter: 'blazeface', file: `${modelsDir}blazeface/face_detection_back_256x256_barracuda.onnx` },
  { name: 'blazeface-front', adapter: 'blazeface', file: `${modelsDir}blazeface/face_detection_front_128x128_barracuda.onnx` },
];

/**
 * Parses a `--model` value: `path/to/best.onnx`, or `name=path`, optionally with an adapter: `name=path@yolo`.
 * The name defaults to the file name without `.onnx`.
 */
export function parseModelArg(arg: string, defaultAdapter?: AdapterName, labels?: string[]): ModelSpec {
  let rest = arg.trim();
  let adapter: AdapterName | undefined = defaultAdapter;
  const at = /@([a-z]+)$/.exec(rest);
  if (at && (ADAPTERS as readonly string[]).includes(at[1]!)) {
    adapter = at[1] as AdapterName;
    rest = rest.slice(0, at.index);
  }
  const eq = rest.indexOf('=');
  const name = eq > 0 ? rest.slice(0, eq) : basename(rest).replace(/\.onnx$/i, '');
  const file = eq > 0 ? rest.slice(eq + 1) : rest;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`model name "${name}" must be letters, digits, ".", "_" or "-"`);
  if (!file) throw new Error(`--model ${JSON.stringify(arg)} names no file`);
  if (/^kserve\+/i.test(file)) return { name, file, adapter, labels, remote: parseKserveUrl(file) };
  return { name, file, adapter, labels };
}

/**
 * `kserve+http://HOST:PORT[/PREFIX]/MODEL[/versions/V]` (or `kserve+https://`) → the server's base URL, the model and
 * its version; `kserve+grpc://HOST:PORT/MODEL[/versions/V]` → the gRPC target `HOST:PORT` and the same.
 */
export function parseKserveUrl(u: string): NonNullable<ModelSpec['remote']> {
  const m = /^kserve\+(http|https|grpc):\/\/([^/]+)((?:\/[^/]+)*?)\/([^/]+?)(?:\/versions\/([^/]+))?\/?$/i.exec(u);
  if (!m) {
    throw new Error(`--model ${JSON.stringify(u)}: a remote model is kserve+http://HOST:PORT/MODEL or kserve+grpc://HOST:PORT/MODEL (optionally /versions/V)`);
  }
  const [, scheme, host, prefix, model, version] = m as unknown as [string, string, string, string, string, string | undefined];
  const named = { model: decodeURIComponent(model), ...(version ? { version: decodeURIComponent(version) } : {}) };
  if (scheme.toLowerCase() === 'grpc') {
    // gRPC names its methods by path (/inference.GRPCInferenceService/ModelInfer): there is no prefix to put before
    // them; and without a port grpc-js would dial 443, which no KServe server listens on in the clear.
    if (prefix) throw new Error(`--model ${JSON.stringify(u)}: kserve+grpc://HOST:PORT/MODEL takes no path before the model`);
    if (!/:\d+$/.test(host)) throw new Error(`--model ${JSON.stringify(u)}: kserve+grpc://HOST:PORT/MODEL needs the port (Triton's is 8001)`);
    return { url: host, ...named, protocol: 'grpc' };
  }
  return { url: `${scheme.toLowerCase()}://${host}${prefix}`, ...named, protocol: 'http' };
}
