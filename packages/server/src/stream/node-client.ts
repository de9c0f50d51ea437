import wrtc from '@roamhq/wrtc';
import type { OfferResponse, ResultMessage, ServerMessage } from '@sightline/protocol';
import type { I420Frame } from '../models/i420.js';

type Pc = {
  createDataChannel(label: string): Dc;
  addTrack(track: unknown): unknown;
  createOffer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(d: unknown): Promise<void>;
  setRemoteDescription(d: unknown): Promise<void>;
  localDescription: { sdp: string };
  iceGatheringState: string;
  connectionState: string;
  onicegatheringstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  getStats(): Promise<Map<string, { type: string; framesEncoded?: number }>>;
  close(): void;
};
type Dc = { readyState: string; onmessage: ((e: { data: string }) => void) | null; close(): void };
const W = wrtc as unknown as {
  RTCPeerConnection: new (c?: object) => Pc;
  nonstandard: { RTCVideoSource: new () => { createTrack(): { stop(): void }; onFrame(f: I420Frame): void } };
};

export interface NodeClientOptions {
  url: string;
  apiKey: string;
  processor?: string | undefined;
  params?: Record<string, unknown> | undefined;
  userId?: string | undefined;
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
}

/** A result with the RTT the client measured (frame handed to the encoder → result received). */
export interface NodeResult {
  message: ResultMessage;
  rttMs: number | undefined;
}

/**
 * The Node twin of the seed's demo.py: sends I420 frames over WebRTC (libwebrtc through @roamhq/wrtc) and receives
 * results on the "results" DataChannel. Frame k sent ↔ result frame_id k (the server numbers decoded frames).
 */
export class NodeClient {
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: { code: string; message: string }) => void) | undefined;
  sessionId = '';
  readonly #pc = new W.RTCPeerConnection({ iceServers: [] });
  readonly #source = new W.nonstandard.RTCVideoSource();
  readonly #track = this.#source.createTrack();
  readonly #channel: Dc;
  readonly #sent = new Map<number, number>();
  #frames = 0;
  /** Frames the server decoded before our first real frame (warm-up): result frame_id = offset + our index. */
  #idOffset = 0;
  #closed = false;

  private constructor(readonly opts: NodeClientOptions) {
    this.#pc.addTrack(this.#track);
    this.#channel = this.#pc.createDataChannel('results');
    this.#channel.onmessage = (e) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(e.data) as ServerMessage;
      } catch {
        return;
      }
      if (msg.type === 'result') {
        if (msg.frame_id < this.#idOffset) return; // a warm-up frame
        const t = this.#sent.get(msg.frame_id - this.#idOffset);
        this.#sent.delete(msg.frame_id - this.#idOffset);
        this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
      } else if (msg.type === 'error') this.onError?.({ code: msg.code, message: msg.message });
    };
  }

  /** Offers (non-trickle), waits for the answer and the DataChannel. */
  static async connect(opts: NodeClientOptions, timeoutMs = 20_000): Promise<NodeClient> {
    const c = new NodeClient(opts);
    try {
      await c.#pc.setLocalDescription(await c.#pc.createOffer());
      await new Promise<void>((resolve) => {
        if (c.#pc.iceGatheringState === 'complete') return resolve();
        c.#pc.onicegatheringstatechange = () => c.#pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 3000);
      });
      const res = await fetch(`${opts.url.replace(/\/+$/, '')}/webrtc/offer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': opts.apiKey },
        body: JSON.stringify({ sdp: c.#pc.localDescription.sdp, type: 'offer', user_id: opts.userId ?? null, processor: opts.processor, params: opts.params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.json().catch(() => null)) as (OfferResponse & { error?: { code: string; message: string } }) | null;
      if (!res.ok || !body?.sdp) throw new Error(`offer refused (${res.status}): ${body?.error ? `${body.error.code}: ${body.error.message}` : 'no answer'}`);
      c.sessionId = body.session_id;
      await c.#pc.setRemoteDescription({ type: 'answer', sdp: body.sdp });
      const deadline = Date.now() + timeoutMs;
      while (c.#channel.readyState !== 'open') {
        if (Date.now() > deadline || c.#pc.connectionState === 'failed') throw new Error(`could not connect (${c.#pc.connectionState})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return c;
    } catch (err) {
      c.close();
      throw err;
    }
  }

  /**
   * libwebrtc's encoder drops the first frames while it starts, which would shift frame matching (and RTT). Feed
   * grey frames until it encodes every frame it gets, wait for it to drain, and count what the server will have
   * decoded: real frame k then has frame_id offset + k.
   */
  async warmUp(width: number, height: number, maxMs = 5000): Promise<void> {
    const grey = new Uint8Array(width * height * 1.5).fill(128);
    const encoded = async (): Promise<number> => {
      let n = 0;
      (await this.#pc.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' && typeof r.framesEncoded === 'number') n = r.framesEncoded;
      });
      return n;
    };
    let fed = 0;
    const deadline = Date.now() + maxMs;
    let lag = -1;
    while (Date.now() < deadline) {
      for (let i = 0; i < 5; i++) {
        this.#source.onFrame({ width, height, data: grey.slice() });
        fed++;
        await new Promise((r) => setTimeout(r, 33));
      }
      const now = fed - (await encoded());
      if (now === lag && fed >= 15) break;
      lag = now;
    }
    await new Promise((r) => setTimeout(r, 300));
    this.#idOffset = await encoded();
  }

  /** Frames handed to the encoder so far. */
  get framesSent(): number {
    return this.#frames;
  }

  send(frame: I420Frame): void {
    if (this.#closed) return;
    this.#sent.set(this.#frames, performance.now());
    this.#sent.delete(this.#frames - 600);
    this.#frames++;
    this.#source.onFrame(frame);
  }

  /** Stops the track and closes the connection (wrtc needs this before the process exits). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.onmessage = null;
    this.#track.stop();
    this.#pc.close();
  }
}
