import { deleteSession, patchCandidates, postOffer, SightlineError } from '@sightline/client/signaling';
import type { VideoCodec } from '@sightline/media';
import { EncodedFrameSender, type CaptureHintMessage, type EncodedFrameSenderStats, type SessionSummary } from '@sightline/protocol/wire';
import type { DataChannel } from 'node-datachannel';
import { dispatchServerMessage } from './server-messages.js';
import type { I420Frame, NodeResult, StreamClient, StreamError } from './stream-client.js';
import { WebRtcPublisher } from './webrtc-publisher.js';

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
  /** webrtc: the size of the frames about to be sent, so that the answer carries the processor's capture hint. */
  capture?: { width: number; height: number } | undefined;
  /** webrtc: the video codec offered (default H264; VP8, VP9, AV1 and H265 too, as the server's --video-codecs allow). */
  codec?: VideoCodec;
}

/**
 * The Node twin of the seed's demo.py over WebRTC — libdatachannel with FFmpeg encoding in-process (the server's own
 * media plumbing, `WebRtcPublisher`) — on the browser SDK's signaling (offer POST with gathered candidates, DELETE).
 * With a media track, a result names its frame by `rtp_timestamp`, which is how RTT is matched; with JPEG chunks, by
 * the frame's own id.
 */
export class NodeClient implements StreamClient {
  onResult: ((r: NodeResult) => void) | undefined;
  onError: ((e: StreamError) => void) | undefined;
  onCaptureHint: ((h: CaptureHintMessage) => void) | undefined;
  captureHint: CaptureHintMessage | undefined;
  sessionId = '';
  readonly input: 'i420' | 'jpeg';
  readonly #publisher: WebRtcPublisher;
  readonly #channel: DataChannel;
  readonly #sender: EncodedFrameSender | undefined;
  /** RTP timestamp of each frame sent → when it was sent (performance.now()). */
  readonly #sent = new Map<number, number>();
  #frames = 0;
  #closing: Promise<SessionSummary | undefined> | undefined;

  private constructor(readonly opts: NodeClientOptions) {
    this.input = opts.transport === 'datachannel' ? 'jpeg' : 'i420';
    this.#publisher = new WebRtcPublisher({
      iceServers: opts.iceServers,
      video: this.input === 'i420' ? (opts.codec ?? 'H264') : false,
      channel: this.input === 'jpeg' ? 'frames' : 'results',
    });
    this.#channel = this.#publisher.channel!;
    if (this.input === 'jpeg') {
      const ch = this.#channel;
      this.#sender = new EncodedFrameSender({
        window: opts.window ?? 2,
        sendChunk: (c) => ch.sendMessageBinary(c),
        bufferedAmount: () => ch.bufferedAmount(),
      });
    }
    this.#publisher.onMessage = (data) => {
      if (typeof data !== 'string') return;
      dispatchServerMessage(data, {
        result: (msg) => {
          if (this.#sender) {
            const t = this.#sender.sentAt(msg.frame_id);
            this.onResult?.({ message: msg, rttMs: t === undefined ? undefined : performance.now() - t });
            return;
          }
          const t = msg.rtp_timestamp === undefined ? undefined : this.#sent.get(msg.rtp_timestamp);
          if (msg.rtp_timestamp !== undefined) this.#sent.delete(msg.rtp_timestamp);
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

  /**
   * Offers (candidates gathered, held back from the offer and trickled once the answer is applied: see
   * `WebRtcPublisher.offer`), waits for the answer and the DataChannel. Refusals throw the server's `SightlineError`.
   */
  static async connect(opts: NodeClientOptions, timeoutMs = 20_000): Promise<NodeClient> {
    const c = new NodeClient(opts);
    const url = opts.url.replace(/\/+$/, '');
    try {
      const sdp = await c.#publisher.offer(3000);
      const answer = await postOffer(
        url,
        opts.apiKey,
        { sdp, userId: opts.userId, processor: opts.processor, params: opts.params, capture: opts.capture },
        timeoutMs,
      );
      c.sessionId = answer.session_id;
      if (answer.capture_hint) c.captureHint = answer.capture_hint;
      c.#publisher.accept(answer.sdp);
      const held = c.#publisher.heldCandidates;
      if (held) await patchCandidates(`${url}/webrtc/sessions/${encodeURIComponent(answer.session_id)}`, opts.apiKey, held);
      const deadline = Date.now() + timeoutMs;
      while (!c.#channel.isOpen()) {
        if (Date.now() > deadline || c.#publisher.state === 'failed') {
          throw new SightlineError('connect_failed', `could not connect (${c.#publisher.state})`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  }

  /** Frames handed to the encoder so far. */
  get framesSent(): number {
    return this.#frames;
  }

  /** Encodes and sends one frame, stamped with the time it is sent (its RTP timestamp follows from it). */
  send(frame: I420Frame): void {
    if (this.#closing || this.input !== 'i420') return;
    const now = performance.now();
    const rtp = this.#publisher.sendVideo(frame, now);
    this.#frames++;
    if (rtp === undefined) return;
    this.#sent.set(rtp, now);
    // Results of frames long gone are not coming: keep the map bounded.
    if (this.#sent.size > 600) this.#sent.delete(this.#sent.keys().next().value!);
  }

  /** datachannel transport: one encoded frame, sent when the ack window allows (else it waits as the latest). */
  sendEncoded(image: Uint8Array): void {
    if (this.#closing || !this.#sender) return;
    this.#frames++;
    this.#sender.offer(image);
  }

  /** As the browser SDK: stop sending, `DELETE` the session (at most 3 s; its final counters), then close. Idempotent. */
  close(): Promise<SessionSummary | undefined> {
    this.#closing ??= (async () => {
      this.#publisher.onMessage = undefined;
      const summary = this.sessionId ? await deleteSession(this.opts.url.replace(/\/+$/, ''), this.opts.apiKey, this.sessionId) : undefined;
      this.#publisher.close();
      return summary;
    })();
    return this.#closing;
  }
}
