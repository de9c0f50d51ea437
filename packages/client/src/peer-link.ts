import { EncodedFrameSender, type CaptureHintMessage, type OfferResponse } from '@sightline/protocol/wire';
import { latencyApi, SendTimeTracker } from './send-time-tracker.js';
import { patchCandidates, postOffer, SightlineError, waitForGathering, type OfferBody } from './signaling.js';

export interface LinkOptions {
  url: string;
  apiKey: string;
  stream: MediaStream;
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
  iceGatheringTimeoutMs: number;
  channelLabel: string;
  /** `datachannel`: no media track; frames go as JPEG/WebP chunks on the channel (see `sender`). */
  transport: 'media' | 'datachannel';
  /** datachannel: most frames unacknowledged. */
  window: number;
  /** Follow the server's capture hints (a hint in the answer is applied before the first frame is encoded). */
  followHints: boolean;
  /** Video codecs offered, in order (`setCodecPreferences`); undefined: the browser's own list. */
  videoCodecs?: string[] | undefined;
}

/**
 * The browser's codecs named in `names` (e.g. 'H264', 'VP9'), in that order (every profile of each), followed by its
 * retransmission and FEC entries. Throws `unsupported_codec` when the browser has none of them.
 */
export function preferredCodecs(capabilities: RTCRtpCodec[], names: string[]): RTCRtpCodec[] {
  const picked = names.flatMap((n) => capabilities.filter((c) => c.mimeType.toLowerCase() === `video/${n.toLowerCase()}`));
  if (picked.length === 0) {
    const have = [...new Set(capabilities.map((c) => c.mimeType.replace(/^video\//, '')))].join(', ');
    throw new SightlineError('unsupported_codec', `this browser sends none of ${names.join(', ')} (it has ${have})`);
  }
  return [...picked, ...capabilities.filter((c) => /\/(rtx|red|ulpfec|flexfec-03)$/i.test(c.mimeType))];
}

/**
 * One RTCPeerConnection to the server with its results DataChannel and the send-time tracker of its video sender.
 * A fresh session gets a new link; an ICE restart keeps the link (and so the frame numbering).
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly channel: RTCDataChannel;
  readonly tracker = new SendTimeTracker();
  /** datachannel transport: the ack-windowed frame sender on `channel`. */
  readonly sender: EncodedFrameSender | undefined;
  sessionId = '';
  processor = '';
  /** The processed video the server sends back (mode video/both). */
  remoteStream: MediaStream | undefined;
  /** The sender of the camera's video track (media transport). */
  videoSender: RTCRtpSender | undefined;
  /** The capture hint the answer carried, if any. */
  captureHint: CaptureHintMessage | undefined;

  constructor(readonly opts: LinkOptions) {
    const api = latencyApi();
    this.pc = new RTCPeerConnection({
      iceServers: opts.iceServers,
      iceTransportPolicy: opts.iceTransportPolicy,
      ...(api === 'encoded-streams' ? { encodedInsertableStreams: true } : {}),
    } as RTCConfiguration);
    this.pc.ontrack = (e) => {
      this.remoteStream = e.streams[0] ?? new MediaStream([e.track]);
    };
    try {
      this.channel = this.pc.createDataChannel(opts.channelLabel);
      if (opts.transport === 'datachannel') {
        const ch = this.channel;
        ch.binaryType = 'arraybuffer';
        this.sender = new EncodedFrameSender({
          window: opts.window,
          sendChunk: (c) => ch.send(c as Uint8Array<ArrayBuffer>),
          bufferedAmount: () => ch.bufferedAmount,
        });
      }
      for (const track of opts.transport === 'datachannel' ? [] : opts.stream.getTracks()) {
        const sender = this.pc.addTrack(track, opts.stream);
        if (track.kind === 'video') {
          this.tracker.attach(sender, api);
          this.videoSender = sender;
          if (opts.videoCodecs?.length) {
            const transceiver = this.pc.getTransceivers().find((t) => t.sender === sender);
            transceiver?.setCodecPreferences(preferredCodecs(RTCRtpReceiver.getCapabilities('video')?.codecs ?? [], opts.videoCodecs));
          }
        }
      }
    } catch (err) {
      this.pc.close();
      throw err;
    }
  }

  /**
   * Offers, posts, applies the answer. `sessionId` set: an ICE restart of that session. `trickle`: post the offer at
   * once and exchange candidates afterwards (RFC 8840 PATCHes), instead of waiting for gathering.
   */
  async negotiate(body: Omit<OfferBody, 'sdp'>, iceRestart = false): Promise<OfferResponse> {
    const trickle = body.trickle === true && !body.sessionId;
    const mine: RTCIceCandidate[] = [];
    let gathered = false;
    if (trickle) {
      this.pc.onicecandidate = (e) => {
        if (e.candidate?.candidate) mine.push(e.candidate);
        else gathered = true;
      };
    }
    await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart }));
    if (!trickle) await waitForGathering(this.pc, this.opts.iceGatheringTimeoutMs);
    // A new session learns its capture hint in the answer, and the encoder starts at that size: changing it once
    // frames flow drops frames on the way, which would shift the frame-index matching behind rttMs.
    const settings = iceRestart ? undefined : this.videoSender?.track?.getSettings();
    const capture = settings?.width && settings.height ? { width: settings.width, height: settings.height } : undefined;
    const answer = await postOffer(this.opts.url, this.opts.apiKey, { ...body, trickle, capture, sdp: this.pc.localDescription!.sdp });
    if (answer.capture_hint && this.opts.followHints) await this.applyCaptureHint(answer.capture_hint).catch(() => undefined);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    this.sessionId = answer.session_id;
    this.processor = answer.processor;
    if (answer.capture_hint) this.captureHint = answer.capture_hint;
    if (trickle && answer.session_url) void this.#trickle(new URL(answer.session_url, this.opts.url).href, mine, () => gathered);
    return answer;
  }

  /** Sends our candidates and applies the server's, until both sides said end-of-candidates (or 10 s). */
  async #trickle(url: string, mine: RTCIceCandidate[], gathered: () => boolean): Promise<void> {
    let sentEnd = false;
    let theirsEnded = false;
    const deadline = performance.now() + 10_000;
    while (!(sentEnd && theirsEnded) && performance.now() < deadline && this.pc.signalingState !== 'closed') {
      const batch = mine.splice(0);
      const ending = gathered() && !sentEnd;
      const frag = [...batch.map((c) => `a=mid:${c.sdpMid ?? '0'}\r\na=${c.candidate}`), ...(ending ? ['a=end-of-candidates'] : [])].join('\r\n');
      const reply = await patchCandidates(url, this.opts.apiKey, frag ? `${frag}\r\n` : '').catch(() => '');
      if (ending) sentEnd = true;
      let mid: string | null = null;
      for (const line of reply.split(/\r?\n/)) {
        if (line.startsWith('a=mid:')) mid = line.slice(6);
        else if (line.startsWith('a=candidate:')) await this.pc.addIceCandidate({ candidate: line.slice(2), sdpMid: mid ?? '0' }).catch(() => undefined);
        else if (line === 'a=end-of-candidates') theirsEnded = true;
      }
      if (!(sentEnd && theirsEnded)) await new Promise((r) => setTimeout(r, 40));
    }
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

  /**
   * Follows the server's capture hint on the video sender: scales the encoding down until the picture fits in
   * `max_width` × `max_height` (never up) and caps its frame rate; `null` lifts a limit. The track itself (and so the
   * local preview) keeps its size: only what is encoded and sent shrinks.
   */
  async applyCaptureHint(hint: CaptureHintMessage): Promise<void> {
    const sender = this.videoSender;
    if (!sender?.track || this.pc.signalingState === 'closed') return;
    const params = sender.getParameters();
    const enc = params.encodings?.[0];
    if (!enc) return;
    const { width, height } = sender.track.getSettings();
    const scale =
      width && height && (hint.max_width || hint.max_height) ? Math.max(1, width / (hint.max_width ?? Infinity), height / (hint.max_height ?? Infinity)) : 1;
    // The same settings again (the answer's hint repeated on the channel) must not touch the encoder.
    if ((enc.scaleResolutionDownBy ?? 1) === scale && (enc.maxFramerate ?? null) === (hint.max_fps ?? null)) return;
    enc.scaleResolutionDownBy = scale;
    if (hint.max_fps) enc.maxFramerate = hint.max_fps;
    else delete enc.maxFramerate;
    await sender.setParameters(params);
  }

  close(): void {
    this.channel.onmessage = this.channel.onclose = null;
    this.pc.onconnectionstatechange = null;
    this.channel.close();
    this.pc.close();
  }
}
