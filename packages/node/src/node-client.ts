import { deleteSession, postOffer, SightlineError, waitForGathering } from '@sightline/client/signaling';
import { EncodedFrameSender, type CaptureHintMessage, type EncodedFrameSenderStats, type SessionSummary } from '@sightline/protocol/wire';
import { dispatchServerMessage } from './server-messages.js';
import type { I420Frame, NodeResult, StreamClient, StreamError } from './stream-client.js';
import { wrtc, type WrtcVideoSource } from './wrtc.js';

export interface NodeClientOptions {
  url: string;
  apiKey: string;
  processor?: string | undefined;
  params?: Record<string, unknown> | undefined;
  userId?: string | undefined;
  iceServers?: RTCIceServer[];
  /**
   * `webrtc` (default): frames as a video track, results on the "results" DataChannel. `datachannel`: frames as JPEG
   * chunks on a "frames" DataChannel (no media track), with the ack window; results come back on it.
   */
  transport?: 'webrtc' | 'datachannel';
  /** datachannel: most frames unacknowledged. */
  window?: number;
}

/**
 * The Node twin of the seed's demo.py over WebRTC (libwebrtc through @roamhq/wrtc), on the browser SDK's signaling
 * (offer POST, gathering wait, DELETE). With a media track, frame k sent ↔ result frame_id offset + k (the server
 * numbers decoded frames); with JPEG chunks, the frame's own id.
 */
export class NodeClient implements StreamClient {
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: StreamError) => void) | undefined;
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  captureHint: CaptureHintMessage | undefined;
  sessionId = '';
  readonly input: 'i420' | 'jpeg';
  readonly #pc: RTCPeerConnection;
  readonly #source: WrtcVideoSource = new wrtc.nonstandard.RTCVideoSource();
  readonly #track: MediaStreamTrack | undefined;
  readonly #channel: RTCDataChannel;
  readonly #sender: EncodedFrameSender | undefined;
  readonly #sent = new Map<number, number>();
  #frames = 0;
  /** Frames the server decoded before our first real frame (warm-up): result frame_id = offset + our index. */
  #idOffset = 0;
  #closing: Promise<SessionSummary | undefined> | undefined;

  private constructor(readonly opts: NodeClientOptions) {
    this.#pc = new wrtc.RTCPeerConnection({ iceServers: opts.iceServers ?? [] });
    this.input = opts.transport === 'datachannel' ? 'jpeg' : 'i420';
    if (this.input === 'i420') {
      this.#track = this.#source.createTrack();
      this.#pc.addTrack(this.#track);
    }
    this.#channel = this.#pc.createDataChannel(this.input === 'jpeg' ? 'frames' : 'results');
    this.#channel.binaryType = 'arraybuffer';
    if (this.input === 'jpeg') {
      const ch = this.#channel;
      this.#sender = new EncodedFrameSender({
        window: opts.window ?? 2,
        sendChunk: (c) => ch.send(c as Uint8Array<ArrayBuffer>),
        bufferedAmount: () => ch.bufferedAmount,
      });
    }
    this.#channel.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') return;
      dispatchServerMessage(e.data, {
        result: (msg) => {
          if (this.#sender) {
            const t = this.#sender.sentAt(msg.frame_id);
            this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
            return;
          }
          if (msg.frame_id < this.#idOffset) return; // a warm-up frame
          const t = this.#sent.get(msg.frame_id - this.#idOffset);
          this.#sent.delete(msg.frame_id - this.#idOffset);
          this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
        },
        frameAck: (msg) => this.#sender?.onAck(msg),
        error: (msg) => this.onError?.(msg),
        captureHint: (msg) => {
          this.captureHint = msg;
          this.onCaptureHint?.(msg);
        },
      });
    };
  }

  /** JPEG transports: what the ack window did so far. */
  get senderStats(): EncodedFrameSenderStats | undefined {
    return this.#sender?.stats;
  }

  /** Offers (non-trickle), waits for the answer and the DataChannel. Refusals throw the server's `SightlineError`. */
  static async connect(opts: NodeClientOptions, timeoutMs = 20_000): Promise<NodeClient> {
    const c = new NodeClient(opts);
    const url = opts.url.replace(/\/+$/, '');
    try {
      await c.#pc.setLocalDescription(await c.#pc.createOffer());
      await waitForGathering(c.#pc, 3000);
      const answer = await postOffer(
        url,
        opts.apiKey,
        { sdp: c.#pc.localDescription!.sdp, userId: opts.userId, processor: opts.processor, params: opts.params },
        timeoutMs,
      );
      c.sessionId = answer.session_id;
      if (answer.capture_hint) c.captureHint = answer.capture_hint;
      await c.#pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      const deadline = Date.now() + timeoutMs;
      while (c.#channel.readyState !== 'open') {
        if (Date.now() > deadline || c.#pc.connectionState === 'failed') {
          throw new SightlineError('connect_failed', `could not connect (${c.#pc.connectionState})`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return c;
    } catch (err) {
      await c.close();
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
      (await this.#pc.getStats()).forEach((r: { type: string; framesEncoded?: number }) => {
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
    if (this.#closing || this.input !== 'i420') return;
    this.#sent.set(this.#frames, performance.now());
    this.#sent.delete(this.#frames - 600);
    this.#frames++;
    this.#source.onFrame(frame);
  }

  /** datachannel transport: one encoded frame, sent when the ack window allows (else it waits as the latest). */
  sendEncoded(image: Uint8Array): void {
    if (this.#closing || !this.#sender) return;
    this.#frames++;
    this.#sender.offer(image);
  }

  /**
   * As the browser SDK: stop sending, `DELETE` the session (at most 3 s; its final counters), then close the
   * connection (wrtc needs this before the process exits). Idempotent.
   */
  close(): Promise<SessionSummary | undefined> {
    this.#closing ??= (async () => {
      this.#channel.onmessage = null;
      this.#track?.stop();
      const summary = this.sessionId ? await deleteSession(this.opts.url.replace(/\/+$/, ''), this.opts.apiKey, this.sessionId) : undefined;
      this.#pc.close();
      return summary;
    })();
    return this.#closing;
  }
}
