import type { DataChannel } from 'node-datachannel';
import { WebRtcPublisher, type PublisherOptions } from '@sightline/node';
import type { I420Frame } from '../../src/models/i420.js';

/** The DataChannel as tests use it: W3C-like `send` and `readyState` over node-datachannel's. */
export class Dc {
  constructor(readonly native: DataChannel) {}
  send(data: string | Uint8Array): boolean {
    return typeof data === 'string' ? this.native.sendMessage(data) : this.native.sendMessageBinary(data);
  }
  get readyState(): 'open' | 'closed' | 'connecting' {
    return this.native.isOpen() ? 'open' : 'connecting';
  }
  get bufferedAmount(): number {
    return this.native.bufferedAmount();
  }
}

/**
 * A real WebRTC client in Node: @sightline/node's publisher (libdatachannel, FFmpeg encoding in-process) sending
 * I420 frames on a video track (VP8 unless `codec` says otherwise) and opening the "results" DataChannel, exactly
 * what the seed clients do; with `audio`, an Opus track too.
 */
export class NodePeer {
  readonly publisher: WebRtcPublisher;
  /** The results channel; with `channel: false`, only once `openChannel` made it (a client that opens it late). */
  channel!: Dc;
  readonly messages: Array<Record<string, unknown>> = [];
  #timer: NodeJS.Timeout | undefined;
  #audioTimer: NodeJS.Timeout | undefined;

  readonly #late: boolean;

  /**
   * `channel: false`: no DataChannel at all. `channel: 'late'`: the offer negotiates SCTP (with a channel closed as soon
   * as the offer is made, before it could open) so that `openChannel` can open the results channel later.
   */
  constructor(
    opts: { video?: boolean; audio?: boolean; label?: string; channel?: boolean | 'late'; codec?: PublisherOptions['video']; receiveVideo?: boolean } = {},
  ) {
    this.#late = opts.channel === 'late';
    this.publisher = new WebRtcPublisher({
      video: opts.video === false ? false : (opts.codec ?? 'VP8'),
      audio: opts.audio === true,
      receiveVideo: opts.receiveVideo === true,
      channel: opts.channel === false ? false : this.#late ? 'sctp-only' : (opts.label ?? 'results'),
    });
    this.publisher.onMessage = (m) => {
      if (typeof m === 'string') this.messages.push(JSON.parse(m) as Record<string, unknown>);
    };
    if (this.publisher.channel && !this.#late) this.channel = new Dc(this.publisher.channel);
  }

  /** Creates the DataChannel on the live connection (the offer must have had one, for the SCTP association). */
  openChannel(label = 'results'): void {
    this.channel = new Dc(this.publisher.openChannel(label));
  }

  /** An offer with all candidates gathered (non-trickle). libdatachannel makes one offer per connection. */
  async offer(): Promise<string> {
    const sdp = await this.publisher.offer(3000);
    if (this.#late) this.publisher.channel?.close();
    return sdp;
  }

  async accept(answerSdp: string): Promise<void> {
    this.publisher.accept(answerSdp);
  }

  get state(): string {
    return this.publisher.state;
  }

  async channelOpen(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.channel.readyState !== 'open') {
      if (Date.now() > deadline) throw new Error(`DataChannel did not open (${this.publisher.state})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `frame` every 1000/fps ms until stopped. */
  startSending(frame: I420Frame, fps = 30): void {
    this.#timer = setInterval(() => this.publisher.sendVideo({ width: frame.width, height: frame.height, data: frame.data }), 1000 / fps);
  }

  stopSending(): void {
    clearInterval(this.#timer);
    clearInterval(this.#audioTimer);
  }

  /** Sends 48 kHz mono `clip` in 10 ms chunks paced by the clock, then silence; returns when the clip started. */
  startAudio(clip: Int16Array): number {
    const t0 = performance.now();
    let sent = 0;
    this.#audioTimer = setInterval(() => {
      while (sent * 10 <= performance.now() - t0) {
        const f = new Int16Array(480);
        if (sent * 480 < clip.length) f.set(clip.subarray(sent * 480, sent * 480 + 480));
        this.publisher.sendAudio({ samples: f, sampleRate: 48_000, channels: 1 });
        sent++;
      }
    }, 5);
    return t0;
  }

  async waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.stopSending();
    this.publisher.close();
  }
}

/**
 * Opens a session on an in-process server with a real NodePeer: offer via `app.inject`, answer applied, DataChannel
 * open. The peer is pushed on `peers` so the test's after() can close it.
 */
export async function openNodeSession(
  app: { inject(opts: object): Promise<{ statusCode: number; body: string; json(): any }> },
  apiKey: string,
  peers: NodePeer[],
  body: Record<string, unknown> = {},
  peerOpts: ConstructorParameters<typeof NodePeer>[0] = {},
): Promise<{ peer: NodePeer; id: string; processor: string; answer: Record<string, unknown> }> {
  // A session that sends the processed video back needs a video section that can receive it.
  const peer = new NodePeer({ receiveVideo: body.mode === 'video' || body.mode === 'both', ...peerOpts });
  peers.push(peer);
  const r = await app.inject({
    method: 'POST',
    url: '/webrtc/offer',
    headers: { 'content-type': 'application/json', 'api-key': apiKey },
    payload: JSON.stringify({ sdp: await peer.offer(), type: 'offer', ...body }),
  });
  if (r.statusCode !== 200) throw new Error(`offer answered ${r.statusCode}: ${r.body}`);
  await peer.accept(r.json().sdp);
  await peer.channelOpen();
  return { peer, id: r.json().session_id as string, processor: r.json().processor as string, answer: r.json() };
}
