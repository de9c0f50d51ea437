import wrtc from '@roamhq/wrtc';
import type { I420Frame } from '../../src/models/i420.js';

type AnyPc = {
  createDataChannel(label: string): Dc;
  addTrack(track: unknown): unknown;
  createOffer(opts?: { iceRestart?: boolean }): Promise<{ type: string; sdp: string }>;
  setLocalDescription(d: unknown): Promise<void>;
  setRemoteDescription(d: unknown): Promise<void>;
  localDescription: { sdp: string; type: string };
  iceGatheringState: string;
  connectionState: string;
  onicegatheringstatechange: (() => void) | null;
  close(): void;
};
export type Dc = {
  readyState: string;
  send(d: string): void;
  onmessage: ((e: { data: string }) => void) | null;
  onopen: (() => void) | null;
  close(): void;
};
const w = wrtc as unknown as {
  RTCPeerConnection: new (c?: object) => AnyPc;
  nonstandard: { RTCVideoSource: new () => { createTrack(): { stop(): void }; onFrame(f: I420Frame): void } };
};

/**
 * A real WebRTC client in Node (libwebrtc through @roamhq/wrtc): sends I420 frames on a video track and opens the
 * "results" DataChannel, exactly what the seed clients do.
 */
export class NodePeer {
  readonly pc = new w.RTCPeerConnection();
  readonly source = new w.nonstandard.RTCVideoSource();
  readonly track = this.source.createTrack();
  readonly channel: Dc;
  readonly messages: Array<Record<string, unknown>> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: { video?: boolean; label?: string } = {}) {
    if (opts.video !== false) this.pc.addTrack(this.track);
    this.channel = this.pc.createDataChannel(opts.label ?? 'results');
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
    return this.pc.localDescription.sdp;
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
  peerOpts: { video?: boolean; label?: string } = {},
): Promise<{ peer: NodePeer; id: string; processor: string }> {
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
  return { peer, id: r.json().session_id as string, processor: r.json().processor as string };
}
