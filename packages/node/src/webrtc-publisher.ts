import { randomInt } from 'node:crypto';
import nodeDataChannel, { type DataChannel, type PeerConnection, type Track } from 'node-datachannel';
import {
  AudioSender,
  iceServersOf,
  isRtcp,
  peerClosed,
  peerOpened,
  release,
  retain,
  VideoSender,
  type AudioChunk,
  type I420Frame,
  type IceServerInit,
  type VideoCodec,
  type VideoSenderCounters,
} from '@sightline/media';

export interface PublisherOptions {
  iceServers?: readonly IceServerInit[] | undefined;
  /** The video track's codec (default VP8), or false for no video track. */
  video?: VideoCodec | false | undefined;
  /** An Opus audio track (48 kHz PCM in through `sendAudio`). */
  audio?: boolean | undefined;
  /** The DataChannel opened with the offer (default "results"), or false for none. */
  channel?: string | false | undefined;
  /**
   * Offer the video section as sendrecv, for sessions that send the processed video back (`mode: video|both`). The
   * packets that come back are counted (`videoPacketsReceived`), not decoded.
   */
  receiveVideo?: boolean | undefined;
  /** The most the video encoder is set to (default 4 Mbps; about 1.5 Mbps at 640x480). */
  maxBitrateBps?: number | undefined;
}

/**
 * Splits an SDP into the SDP without its `a=candidate` and `a=end-of-candidates` lines and those lines as a trickle
 * fragment (`a=mid:` before each section's candidates, `a=end-of-candidates` last when gathering had completed).
 */
export function holdBackCandidates(sdp: string): { offer: string; candidates: string } {
  const kept: string[] = [];
  const frag: string[] = [];
  let mid: string | undefined;
  let fragMid: string | undefined;
  let ended = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) mid = undefined;
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    if (line.startsWith('a=candidate:')) {
      if (mid !== undefined && mid !== fragMid) frag.push(`a=mid:${mid}`);
      fragMid = mid;
      frag.push(line);
    } else if (line === 'a=end-of-candidates') ended = true;
    else kept.push(line);
  }
  if (ended && frag.length > 0) frag.push('a=end-of-candidates');
  return { offer: kept.join('\r\n'), candidates: frag.length > 0 ? `${frag.join('\r\n')}\r\n` : '' };
}

/** Payload types offered per codec (any dynamic ones would do; these are Chromium's usual). */
const VIDEO_PT: Record<VideoCodec, number> = { VP8: 96, VP9: 98, H264: 102, AV1: 45, H265: 49 };
const OPUS_PT = 111;
const TICK_MS = 200;

/**
 * A WebRTC publisher in Node, on libdatachannel (node-datachannel) with FFmpeg codecs in-process — the same media
 * plumbing as the server: it offers a send-only video track (I420 frames in, encoded and packetized
 * here; NACKs answered, PLI honoured, sender reports sent), optionally an Opus audio track and a DataChannel, and
 * applies the answer. Frames sent before the connection is up are skipped (counted); the first sent is a keyframe.
 */
export class WebRtcPublisher {
  readonly pc: PeerConnection;
  /** The DataChannel opened with the offer (or later by `openChannel`). */
  channel: DataChannel | undefined;
  /** Every message of every DataChannel of this connection. */
  onMessage: ((message: string | Buffer, label: string) => void) | undefined;
  /** RTP packets received on the video track (with `receiveVideo`). */
  videoPacketsReceived = 0;
  readonly #tracks: Track[] = [];
  readonly #channels: DataChannel[] = [];
  readonly #video: VideoSender | undefined;
  readonly #audio: AudioSender | undefined;
  readonly #gathered: Promise<void>;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(opts: PublisherOptions = {}) {
    this.pc = new nodeDataChannel.PeerConnection('sightline-node', {
      iceServers: iceServersOf(opts.iceServers ?? []),
      // One offer with everything below in it, made by `offer()`.
      disableAutoNegotiation: true,
      maxMessageSize: 1 << 20,
    });
    peerOpened();
    this.#gathered = new Promise<void>((resolve) => {
      this.pc.onGatheringStateChange((s) => {
        if (s === 'complete') resolve();
      });
    });
    const codec = opts.video === undefined ? 'VP8' : opts.video;
    if (codec !== false) {
      const media = new nodeDataChannel.Video('0', opts.receiveVideo ? 'SendRecv' : 'SendOnly');
      const pt = VIDEO_PT[codec];
      if (codec === 'H264') media.addH264Codec(pt);
      else if (codec === 'VP8') media.addVP8Codec(pt);
      else if (codec === 'VP9') media.addVP9Codec(pt);
      else if (codec === 'AV1') media.addAV1Codec(pt);
      else media.addH265Codec(pt);
      const ssrc = randomInt(1, 0xffffffff);
      media.addSSRC(ssrc, 'sightline-node', 'sightline-node', 'video');
      const track = this.#addTrack(media);
      const sender = new VideoSender({
        codec,
        payloadType: pt,
        ssrc,
        isOpen: () => track.isOpen(),
        send: (p) => track.isOpen() && track.sendMessageBinary(Buffer.from(p.buffer, p.byteOffset, p.byteLength)),
        ...(opts.maxBitrateBps !== undefined ? { maxBitrateBps: opts.maxBitrateBps } : {}),
      });
      track.onMessage((buf) => {
        if (isRtcp(buf)) sender.onRtcp(buf);
        else this.videoPacketsReceived++;
      });
      this.#video = sender;
    }
    if (opts.audio) {
      const media = new nodeDataChannel.Audio('1', 'SendOnly');
      media.addOpusCodec(OPUS_PT);
      const ssrc = randomInt(1, 0xffffffff);
      media.addSSRC(ssrc, 'sightline-node', 'sightline-node', 'audio');
      const track = this.#addTrack(media);
      this.#audio = new AudioSender({
        payloadType: OPUS_PT,
        ssrc,
        isOpen: () => track.isOpen(),
        send: (p) => track.sendMessageBinary(Buffer.from(p.buffer, p.byteOffset, p.byteLength)),
      });
    }
    if (opts.channel !== false) this.openChannel(opts.channel ?? 'results');
    this.#timer = setInterval(() => this.#video?.tick(), TICK_MS);
    this.#timer.unref();
  }

  /**
   * Creates a DataChannel. Before `offer()` it is part of the offer; after the connection is up it opens on the
   * existing SCTP association (the offer must have had a channel for there to be one).
   */
  openChannel(label: string): DataChannel {
    const dc = this.pc.createDataChannel(label);
    retain(dc);
    dc.onClosed(() => release(dc));
    dc.onMessage((m) => this.onMessage?.(typeof m === 'string' ? m : Buffer.from(m as ArrayBuffer), label));
    this.#channels.push(dc);
    this.channel = dc;
    return dc;
  }

  /**
   * The offer, once candidates are gathered (at most `gatherTimeoutMs`), with the candidates held back: they are
   * `heldCandidates`, to trickle once the answer is applied.
   *
   * Why: libdatachannel hands the answer's ICE credentials to its ICE agent before the PeerConnection records the
   * answer's DTLS fingerprint. An answerer that already knows this side's address (from candidates in the offer) has
   * sent its checks and its DTLS hello by then; ICE can connect on that peer-reflexive pair inside that window, the
   * certificate check finds no fingerprint, DTLS fails and the connection closes ("Got a remote candidate without ICE
   * transport"; one connect in 20 with client and server in one busy process). With no candidates in the offer, the
   * answerer learns this side's address only from this side's own checks, which start after the answer is applied.
   */
  async offer(gatherTimeoutMs = 3000): Promise<string> {
    this.pc.setLocalDescription('offer');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#gathered, new Promise((r) => (timer = setTimeout(r, gatherTimeoutMs)))]);
    clearTimeout(timer);
    const sdp = this.pc.localDescription()?.sdp;
    if (!sdp) throw new Error('libdatachannel produced no offer');
    const { offer, candidates } = holdBackCandidates(sdp);
    this.heldCandidates = candidates;
    return offer;
  }

  /**
   * This side's candidates left out of the offer, as a trickle-ICE fragment (RFC 8840) for the server's PATCH route;
   * empty before `offer()`. Sending them is optional (the server answers this side's checks either way) and helps
   * where both sides are behind NATs.
   */
  heldCandidates = '';

  accept(answerSdp: string): void {
    this.pc.setRemoteDescription(answerSdp, 'answer');
  }

  /** Whether every media track is open (DTLS-SRTP done): media sent before that is skipped. */
  get mediaOpen(): boolean {
    return !this.#closed && this.#tracks.every((t) => t.isOpen());
  }

  /** Resolves once every media track is open; rejects after `timeoutMs` or when the connection fails. */
  async waitForMedia(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.mediaOpen) {
      if (this.#closed || this.pc.state() === 'failed') throw new Error(`the connection ${this.state} before its media opened`);
      if (Date.now() > deadline) throw new Error(`media did not open within ${timeoutMs} ms (${this.state})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** `new`, `connecting`, `connected`, `disconnected`, `failed` or `closed`. */
  get state(): string {
    return this.#closed ? 'closed' : this.pc.state();
  }

  /**
   * Encodes and sends one frame; `nowMs` is its capture time (performance.now() by default), from which its RTP
   * timestamp follows (90 kHz). Returns that RTP timestamp, or undefined when the frame was not sent (not connected
   * yet, no video track, or the encoder failed: see `videoCounters`).
   */
  sendVideo(frame: I420Frame, nowMs?: number): number | undefined {
    if (this.#closed || !this.#video) return undefined;
    return this.#video.sendFrame(frame, nowMs);
  }

  /** 48 kHz 16-bit PCM for the audio track (any chunk length; Opus frames are 20 ms). */
  sendAudio(chunk: AudioChunk): void {
    if (!this.#closed) this.#audio?.sendPcm(chunk);
  }

  get videoCounters(): VideoSenderCounters | undefined {
    return this.#video?.counters;
  }

  /** Closes the connection and frees its native resources at once. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#video?.close();
    this.#audio?.close();
    for (const dc of this.#channels) dc.close();
    for (const t of this.#tracks) t.close();
    this.pc.close();
    peerClosed();
    this.onMessage = undefined;
  }

  /** A track, retained until libdatachannel reports it closed (node-datachannel crashes if one is collected early). */
  #addTrack(media: Parameters<PeerConnection['addTrack']>[0]): Track {
    const track = this.pc.addTrack(media);
    retain(track);
    track.onClosed(() => release(track));
    this.#tracks.push(track);
    return track;
  }
}
