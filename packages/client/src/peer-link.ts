import type { OfferResponse } from '@sightline/protocol';
import { latencyApi, SendTimeTracker } from './send-time-tracker.js';
import { postOffer, waitForGathering, type OfferBody } from './signaling.js';

export interface LinkOptions {
  url: string;
  apiKey: string;
  stream: MediaStream;
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
  iceGatheringTimeoutMs: number;
  channelLabel: string;
}

/**
 * One RTCPeerConnection to the server with its results DataChannel and the send-time tracker of its video sender.
 * A fresh session gets a new link; an ICE restart keeps the link (and so the frame numbering).
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly channel: RTCDataChannel;
  readonly tracker = new SendTimeTracker();
  sessionId = '';
  processor = '';

  constructor(readonly opts: LinkOptions) {
    const api = latencyApi();
    this.pc = new RTCPeerConnection({
      iceServers: opts.iceServers,
      iceTransportPolicy: opts.iceTransportPolicy,
      ...(api === 'encoded-streams' ? { encodedInsertableStreams: true } : {}),
    } as RTCConfiguration);
    try {
      this.channel = this.pc.createDataChannel(opts.channelLabel);
      for (const track of opts.stream.getTracks()) {
        const sender = this.pc.addTrack(track, opts.stream);
        if (track.kind === 'video') this.tracker.attach(sender, api);
      }
    } catch (err) {
      this.pc.close();
      throw err;
    }
  }

  /** Offers, posts, applies the answer. `sessionId` set: an ICE restart of that session. */
  async negotiate(body: Omit<OfferBody, 'sdp'>, iceRestart = false): Promise<OfferResponse> {
    await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart }));
    await waitForGathering(this.pc, this.opts.iceGatheringTimeoutMs);
    const answer = await postOffer(this.opts.url, this.opts.apiKey, { ...body, sdp: this.pc.localDescription!.sdp });
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    this.sessionId = answer.session_id;
    this.processor = answer.processor;
    return answer;
  }

  /** Resolves when the connection is up and the channel open; rejects on failure or after `timeoutMs`. */
  whenOpen(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.pc.connectionState === 'failed' || this.pc.connectionState === 'closed') finish(new Error(`connection ${this.pc.connectionState}`));
        else if (this.pc.connectionState === 'connected' && this.channel.readyState === 'open') finish();
      };
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.pc.removeEventListener('connectionstatechange', check);
        this.channel.removeEventListener('open', check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
      this.pc.addEventListener('connectionstatechange', check);
      this.channel.addEventListener('open', check);
      check();
    });
  }

  close(): void {
    this.channel.onmessage = this.channel.onclose = null;
    this.pc.onconnectionstatechange = null;
    this.channel.close();
    this.pc.close();
  }
}
