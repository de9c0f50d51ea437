import { wrtc, type WrtcDataChannel } from '../../src/engine/wrtc-binding.js';
import type { I420Frame } from '../../src/models/i420.js';

export type Dc = WrtcDataChannel;
const w = wrtc;

/**
 * A real WebRTC client in Node (libwebrtc through @roamhq/wrtc): sends I420 frames on a video track and opens the
 * "results" DataChannel, exactly what the seed clients do.
 */
export class NodePeer {
  readonly pc = new w.RTCPeerConnection();
  readonly source = new w.nonstandard.RTCVideoSource();
  readonly track = this.source.createTrack();
  /** The results channel; with `channel: false`, only once `openChannel` made it (a client that opens it late). */
  channel!: Dc;
  readonly messages: Array<Record<string, unknown>> = [];
  readonly audio: InstanceType<typeof w.nonstandard.RTCAudioSource> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #audioTimer: NodeJS.Timeout | undefined;

  constructor(opts: { video?: boolean; audio?: boolean; label?: string; channel?: boolean } = {}) {
    if (opts.video !== false) this.pc.addTrack(this.track);
    if (opts.audio) {
      this.audio = new w.nonstandard.RTCAudioSource();
      // Its track is never stopped: stopping an RTCAudioSource's track and closing the connection crashes wrtc at exit.
      this.pc.addTrack(this.audio.createTrack());
    }
    if (opts.channel !== false) this.openChannel(opts.label ?? 'results');
  }

  /** Creates the DataChannel (after the first negotiation, it needs a new offer: `offer()` again). */
  openChannel(label = 'results'): void {
    this.channel = this.pc.createDataChannel(label);
    this.channel.onmessage = (e) => this.messages.push(JSON.parse(e.data) as Record<string, unknown>);
  }

  /** An offer with all candidates gathered (non-trickle); `iceRestart` for a new ICE generation. */
  async offer(iceRestart = false): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart }));
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        this.pc.onicegatheringstatechange = () => this.pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 3000);
      });
    }
    return this.pc.localDescription!.sdp;
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  async channelOpen(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.channel.readyState !== 'open') {
      if (Date.now() > deadline) throw new Error(`DataChannel did not open (${this.pc.connectionState})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `frame` (a fresh copy each time) every 1000/fps ms until stopped. */
  startSending(frame: I420Frame, fps = 30): void {
    this.#timer = setInterval(() => this.source.onFrame({ width: frame.width, height: frame.height, data: frame.data.slice() }), 1000 / fps);
  }

  stopSending(): void {
    clearInterval(this.#timer);
    clearInterval(this.#audioTimer);
  }

  /** Sends 48 kHz mono `clip` in 10 ms frames paced by the clock, then silence; returns when the clip started. */
  startAudio(clip: Int16Array): number {
    const t0 = performance.now();
    let sent = 0;
    this.#audioTimer = setInterval(() => {
      while (sent * 10 <= performance.now() - t0) {
        const f = new Int16Array(480);
        if (sent * 480 < clip.length) f.set(clip.subarray(sent * 480, sent * 480 + 480));
        this.audio!.onData({ samples: f, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
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
    this.track.stop();
    this.pc.close();
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
  peerOpts: { video?: boolean; audio?: boolean; label?: string } = {},
): Promise<{ peer: NodePeer; id: string; processor: string; answer: Record<string, unknown> }> {
  const peer = new NodePeer(peerOpts);
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
