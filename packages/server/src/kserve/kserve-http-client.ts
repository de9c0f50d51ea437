/**
 * A client of one model on a KServe v2 (Open Inference Protocol) server over HTTP/REST: Triton, KServe, OpenVINO
 * Model Server, MLServer or `sightline infer-server`. Inference goes as binary tensor data both ways. Each call has a
 * timeout; a failure that may pass (no connection, 502/503/504, a timeout) is retried with backoff; a circuit
 * breaker makes calls fail at once while the server is down, so a session's frames get error results at once rather
 * than waiting out timeouts one by one.
 */
import { CircuitBreaker } from './circuit-breaker.js';
import { HEADER_LENGTH } from './infer-body.js';
import { decodeInferResponse, encodeInferRequest, type InferRequest, type InferResponse } from './infer-messages.js';
import { isDatatype, TensorDataError, type Datatype } from './tensor-data.js';

export interface KserveHttpClientOptions {
  /** `http://host:port` (a path prefix is kept). */
  baseUrl: string;
  model: string;
  version?: string | undefined;
  /** Per attempt (default 2000 ms). */
  timeoutMs?: number;
  /** Attempts after the first for failures that may pass (default 1). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one (default 50 ms). */
  backoffMs?: number;
  breaker?: CircuitBreaker;
}

/** `unavailable`: the server could not be reached or is down (retried, or the breaker is open); `refused`: it answered with an error. */
export class KserveError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'refused' | 'invalid_response',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'KserveError';
  }
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** -1 for a dynamic dimension. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

const RETRYABLE = new Set([502, 503, 504]);

export class KserveHttpClient {
  readonly breaker: CircuitBreaker;
  readonly #opts: Required<Omit<KserveHttpClientOptions, 'version' | 'breaker'>> & { version: string | undefined };
  readonly #modelPath: string;

  constructor(opts: KserveHttpClientOptions) {
    this.#opts = { timeoutMs: 2000, retries: 1, backoffMs: 50, ...opts, baseUrl: opts.baseUrl.replace(/\/+$/, ''), version: opts.version };
    this.breaker = opts.breaker ?? new CircuitBreaker();
    this.#modelPath = `/v2/models/${encodeURIComponent(opts.model)}${opts.version ? `/versions/${encodeURIComponent(opts.version)}` : ''}`;
  }

  /** `GET /v2/health/ready`: true on 200, false on another answer; throws when unreachable. */
  async serverReady(): Promise<boolean> {
    return (await this.#call('GET', '/v2/health/ready')).ok;
  }

  /** `GET /v2/models/{m}/ready`. */
  async modelReady(): Promise<boolean> {
    return (await this.#call('GET', `${this.#modelPath}/ready`)).ok;
  }

  /** `GET /v2/models/{m}`: the model's inputs and outputs. */
  async metadata(): Promise<ModelMetadata> {
    const res = await this.#call('GET', this.#modelPath);
    const body = (await this.#json(res)) as Partial<ModelMetadata> | null;
    const tensors = (list: unknown, what: string): TensorMetadata[] => {
      if (!Array.isArray(list)) throw new KserveError('invalid_response', `model metadata has no ${what} list`);
      return list.map((t: { name?: unknown; datatype?: unknown; shape?: unknown }, i) => {
        if (typeof t.name !== 'string' || !isDatatype(t.datatype) || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d))) {
          throw new KserveError('invalid_response', `model metadata ${what}[${i}] is not {name, datatype, shape}`);
        }
        return { name: t.name, datatype: t.datatype, shape: t.shape as number[] };
      });
    };
    return {
      name: typeof body?.name === 'string' ? body.name : this.#opts.model,
      versions: Array.isArray(body?.versions) ? body.versions.map(String) : [],
      platform: typeof body?.platform === 'string' ? body.platform : '',
      inputs: tensors(body?.inputs, 'inputs'),
      outputs: tensors(body?.outputs, 'outputs'),
    };
  }

  /** `POST /v2/models/{m}/infer` with binary tensor data, outputs asked as binary data. */
  async infer(req: InferRequest): Promise<InferResponse> {
    const { body, headerLength } = encodeInferRequest({ ...req, binaryOutputs: req.binaryOutputs ?? true }, true);
    const res = await this.#call('POST', `${this.#modelPath}/infer`, body, headerLength);
    const bytes = new Uint8Array(await res.arrayBuffer());
    try {
      return decodeInferResponse(bytes, res.headers.get(HEADER_LENGTH) ?? undefined);
    } catch (err) {
      throw new KserveError('invalid_response', `inference response: ${err instanceof TensorDataError ? err.message : String(err)}`);
    }
  }

  /**
   * One call: refused at once while the breaker is open; attempts with backoff while the failure may pass. Answers
   * other than 2xx that are not retryable come back for the caller to read (a ready check's 400), except on infer
   * and metadata, which throw `refused` with the server's `{"error": …}` message.
   */
  async #call(method: 'GET' | 'POST', path: string, body?: Uint8Array, headerLength?: number): Promise<Response> {
    if (!this.breaker.allow()) {
      throw new KserveError(
        'unavailable',
        `inference server ${this.#opts.baseUrl} is down (circuit open; next try in ${Math.ceil(this.breaker.retryInMs)} ms)`,
      );
    }
    let last: KserveError | undefined;
    for (let attempt = 0; attempt <= this.#opts.retries; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.#opts.backoffMs * 2 ** (attempt - 1)));
      let res: Response;
      try {
        res = await fetch(`${this.#opts.baseUrl}${path}`, {
          method,
          headers: body
            ? {
                'content-type': headerLength === undefined ? 'application/json' : 'application/octet-stream',
                ...(headerLength !== undefined ? { [HEADER_LENGTH]: String(headerLength) } : {}),
              }
            : {},
          ...(body ? { body } : {}),
          signal: AbortSignal.timeout(this.#opts.timeoutMs),
        });
      } catch (err) {
        const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.#opts.timeoutMs} ms` : 'unreachable';
        last = new KserveError('unavailable', `inference server ${this.#opts.baseUrl}: ${why}`);
        continue;
      }
      if (RETRYABLE.has(res.status)) {
        await res.body?.cancel();
        last = new KserveError('unavailable', `inference server ${this.#opts.baseUrl} answered ${res.status}`, res.status);
        continue;
      }
      this.breaker.succeeded();
      if (!res.ok && (method === 'POST' || !path.endsWith('/ready'))) {
        const msg = ((await res.json().catch(() => null)) as { error?: unknown } | null)?.error;
        throw new KserveError('refused', `inference server answered ${res.status}: ${typeof msg === 'string' ? msg.slice(0, 300) : 'no message'}`, res.status);
      }
      return res;
    }
    this.breaker.failed();
    throw last!;
  }

  async #json(res: Response): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw new KserveError('invalid_response', 'the inference server answered something that is not JSON');
    }
  }
}
