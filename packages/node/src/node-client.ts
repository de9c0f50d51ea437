import { EncodedFrameSender, type CaptureHintMessage, type EncodedFrameSenderStats, type OfferResponse, type ServerMessage } from '@sightline/protocol';
import { wrtc, type WrtcDataChannel, type WrtcTrack } from '../engine/wrtc-binding.js';
import type { I420Frame } from '../models/i420.js';
import type { NodeResult, StreamClient } from './stream-client.js';

const W = wrtc;

export interface NodeClientOptions {
  url: string;
  apiKey: string;
  processor?: string | undefined;
  params?: Record<string, unknown> | undefined;
  userId?: string | undefined;
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /**
   * `webrtc` (default): frames as a video track, results on the "results" DataChannel. `datachannel`: frames as JPEG
   * chunks on a "frames" DataChannel (no media track), with the ack window; results come back on it.
   */
  transport?: 'webrtc' | 'datachannel';
  /** datachannel: most frames unacknowledged. */
  window?: number;
}

/**
 * The Node twin of the seed's demo.py over WebRTC (libwebrtc through @roamhq/wrtc). With a media track, frame k
 * sent ↔ result frame_id offset + k (the server numbers decoded frames); with JPEG chunks, the frame's own id.
 */
export class NodeClient implements StreamClient {
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: { code: string; message: string; frame_id?: number }) => void) | undefined;
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  captureHint: CaptureHintMessage | undefined;
  sessionId = '';
  readonly input: 'i420' | 'jpeg';
  readonly #pc = new W.RTCPeerConnection({ iceServers: [] });
  readonly #source = new W.nonstandard.RTCVideoSource();
  readonly #track: WrtcTrack | undefined;
  readonly #channel: WrtcDataChannel;
  readonly #sender: EncodedFrameSender | undefined;
  readonly #sent = new Map<number, number>();
  #frames = 0;
  /** Frames the server decoded before our first real frame (warm-up): result frame_id = offset + our index. */
  #idOffset = 0;
  #closed = false;

  private constructor(readonly opts: NodeClientOptions) {
    this.input = opts.transport === 'datachannel' ? 'jpeg' : 'i420';
    if (this.input === 'i420') {
      this.#track = this.#source.createTrack();
      this.#pc.addTrack(this.#track);
    }
    this.#channel = this.#pc.createDataChannel(this.input === 'jpeg' ? 'frames' : 'results');
    this.#channel.binaryType = 'arraybuffer';
    if (this.input === 'jpeg') {
      const ch = this.#channel;
      this.#sender = new EncodedFrameSender({ window: opts.window ?? 2, sendChunk: (c) => ch.send(c), bufferedAmount: () => ch.bufferedAmount });
    }
    this.#channel.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      let msg: ServerMessage;
      try {
        msg = JSON.parse(e.data) as ServerMessage;
      } catch {
        return;
      }
      if (msg.type === 'frame_ack') this.#sender?.onAck(msg);
      else if (msg.type === 'result') {
        if (this.#sender) {
          const t = this.#sender.sentAt(msg.frame_id);
          this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
          return;
        }
        if (msg.frame_id < this.#idOffset) return; // a warm-up frame
        const t = this.#sent.get(msg.frame_id - this.#idOffset);
        this.#sent.delete(msg.frame_id - this.#idOffset);
        this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
      } else if (msg.type === 'error') this.onError?.(msg);
      else if (msg.type === 'capture_hint') {
        this.captureHint = msg;
        this.onCaptureHint?.(msg);
      }
    };
  }

  /** JPEG transports: what the ack window did so far. */
  get senderStats(): EncodedFrameSenderStats | undefined {
    return this.#sender?.stats;
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
        body: JSON.stringify({ sdp: c.#pc.localDescription!.sdp, type: 'offer', user_id: opts.userId ?? null, processor: opts.processor, params: opts.params }),
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
    if (this.input === 'jpeg') return;
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
    if (this.#closed || this.input !== 'i420') return;
    this.#sent.set(this.#frames, performance.now());
    this.#sent.delete(this.#frames - 600);
    this.#frames++;
    this.#source.onFrame(frame);
  }

  /** datachannel transport: one encoded frame, sent when the ack window allows (else it waits as the latest). */
  sendEncoded(image: Uint8Array): void {
    if (this.#closed || !this.#sender) return;
    this.#frames++;
    this.#sender.offer(image);
  }

  /** Stops the track and closes the connection (wrtc needs this before the process exits). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.onmessage = null;
    this.#track?.stop();
    this.#pc.close();
  }
}
