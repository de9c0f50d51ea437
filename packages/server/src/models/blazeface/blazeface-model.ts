import ort from 'onnxruntime-node';
import { i420ToNhwcLetterboxed, type I420Frame } from '../i420.js';
import { blazeFaceAnchors, type Anchor } from './anchors.js';
import { decodeBlazeFace } from './decode.js';

/** A face in frame pixels. */
export interface FaceBox {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}

export type BlazeFaceVariant = 'back' | 'front';

export const BLAZEFACE_INPUT_SIZE: Record<BlazeFaceVariant, number> = { back: 256, front: 128 };

/**
 * BlazeFace on onnxruntime: letterbox the I420 frame into the square input, run, decode, map boxes back to frame
 * pixels. Holds its input tensor buffer so a frame costs no allocation beyond onnxruntime's outputs.
 */
export class BlazeFaceModel {
  readonly #session: ort.InferenceSession;
  readonly #size: number;
  readonly #input: Float32Array;
  readonly #anchors: Anchor[] = blazeFaceAnchors();

  private constructor(session: ort.InferenceSession, size: number) {
    this.#session = session;
    this.#size = size;
    this.#input = new Float32Array(size * size * 3);
  }

  static async load(file: string, variant: BlazeFaceVariant, intraOpNumThreads = 1): Promise<BlazeFaceModel> {
    const session = await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      intraOpNumThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    return new BlazeFaceModel(session, BLAZEFACE_INPUT_SIZE[variant]);
  }

  async detect(frame: I420Frame, minScore: number): Promise<FaceBox[]> {
    const s = this.#size;
    const lb = i420ToNhwcLetterboxed(frame, s, this.#input);
    const feeds = { 'input:0': new ort.Tensor('float32', this.#input, [1, s, s, 3]) };
    const out = await this.#session.run(feeds);
    const data = (name: string): Float32Array => {
      const t = out[name];
      if (!t) throw new Error(`BlazeFace output ${name} missing`);
      return t.data as Float32Array;
    };
    const faces = decodeBlazeFace(
      { scores: [data('Identity:0'), data('Identity_1:0')], boxes: [data('Identity_2:0'), data('Identity_3:0')] },
      this.#anchors,
      s,
      minScore,
    );
    const W = frame.width;
    const H = frame.height;
    return faces.map((f) => {
      const x0 = clamp((f.x * s - lb.padX) / lb.scale, 0, W);
      const y0 = clamp((f.y * s - lb.padY) / lb.scale, 0, H);
      const x1 = clamp(((f.x + f.w) * s - lb.padX) / lb.scale, 0, W);
      const y1 = clamp(((f.y + f.h) * s - lb.padY) / lb.scale, 0, H);
      return { x: x0, y: y0, w: x1 - x0, h: y1 - y0, score: f.score };
    });
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
