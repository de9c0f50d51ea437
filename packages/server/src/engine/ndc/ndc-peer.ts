import { randomInt } from 'node:crypto';
import nodeDataChannel, { type DataChannel, type PeerConnection, type Track } from 'node-datachannel';
import { announceIp } from '../announce-ip.js';
import {
  iceServersOf,
  isRtcp,
  peerClosed,
  peerOpened,
  release,
  retain,
  VideoSender,
  type FrameEncoderFactory,
  type I420Frame,
  type VideoSenderCounters,
} from '@sightline/media';
import { AnswerFailedError, InvalidOfferError, type EnginePeer, type PeerOptions, type PeerState, type VideoOutput } from '../media-engine.js';
import { chooseAudioCodec, chooseVideoCodec, offeredVideoNames, UnsupportedCodecError, type VideoCodec } from './codec-choice.js';
import { NdcChannel } from './ndc-channel.js';
import { parseOfferMedia } from './offer-media.js';
import type { AudioReceiverFactory, VideoDecoderFactory } from './ndc-engine.js';
import { VideoReceiver } from './video-receiver.js';

export interface NdcPeerOptions extends PeerOptions {
  videoCodecs: readonly VideoCodec[];
  maxBitrateBps: number;
  createDecoder: VideoDecoderFactory;
  /** Encoders for the video sent (video back, WHEP), and the codecs this build can encode. */
  createEncoder: FrameEncoderFactory;
  encodableCodecs: readonly VideoCodec[];
  createAudioReceiver: AudioReceiverFactory | undefined;
  /** Listen for every session on one UDP port (libdatachannel's ICE UDP mux) instead of a port per session. */
  iceUdpMux: boolean;
}

const TICK_MS = 5;

/**
 * One peer connection on libdatachannel. The answer is built from the offer: per video section the first codec of
 * `--video-codecs` it offers (with RTX), Opus for audio; a section whose video nothing here decodes is a 400
 * `unsupported_codec` at once. Each received track has its own receive path (`VideoReceiver`); DataChannels are the
 * client's. `close()` frees the native connection at once.
 */
export class NdcPeer implements EnginePeer {
  /** libdatachannel rejects an offer with new ICE credentials on a live connection: sessions resume on a new peer. */
  readonly restartsIce = false;
  onVideoFrame: EnginePeer['onVideoFrame'];
  onAudioFrame: EnginePeer['onAudioFrame'];
  onChannel: EnginePeer['onChannel'];
  onStateChange: EnginePeer['onStateChange'];
  readonly #opts: NdcPeerOptions;
  readonly #pc: PeerConnection;
  readonly #channels = new Set<NdcChannel>();
  readonly #tracks = new Set<Track>();
  readonly #receivers = new Set<VideoReceiver>();
  readonly #senders = new Set<VideoSender>();
  /** Outputs asked for before the answer; each takes the first video section that can carry it. */
  readonly #outputs: NdcVideoOutput[] = [];
  readonly #closers = new Set<() => void>();
  readonly #gathered: Promise<void>;
  /** Ends the wait for gathering (on close: an answer in progress then fails at once, not at the gathering timeout). */
  #stopGatheringWait: () => void = () => undefined;
  #pendingCandidates: Array<{ mid: string | null; candidate: string }> = [];
  #state: PeerState = 'new';
  #timer: NodeJS.Timeout | undefined;
  #answered = false;
  /** performance.now() of the last packet or message from the client (or of connecting): see `lastInboundAt`. */
  #lastInbound = performance.now();
  #closed = false;

  constructor(opts: NdcPeerOptions) {
    this.#opts = opts;
    this.#pc = new nodeDataChannel.PeerConnection('sightline', {
      iceServers: iceServersOf(opts.iceServers),
      ...(opts.portRange ? { portRangeBegin: opts.portRange.min, portRangeEnd: opts.portRange.max } : {}),
      ...(opts.iceUdpMux ? { enableIceUdpMux: true } : {}),
      maxMessageSize: 1 << 20,
    });
    peerOpened();
    // Registered before anything negotiates, or `complete` can be missed.
    this.#gathered = new Promise<void>((resolve) => {
      this.#stopGatheringWait = resolve;
      this.#pc.onGatheringStateChange((s) => {
        if (s === 'complete') resolve();
      });
    });
    this.#pc.onLocalCandidate((candidate, mid) => {
      const c = candidate.replace(/^a=/, '');
      this.#pendingCandidates.push({ mid, candidate: this.#opts.announcedIp ? announceIp(`a=${c}`, this.#opts.announcedIp).slice(2) : c });
    });
    this.#pc.onStateChange((s) => {
      const state = s as PeerState;
      if (this.#closed || state === this.#state) return;
      if (state === 'connected') this.#lastInbound = performance.now();
      this.#state = state;
      this.onStateChange?.(state);
    });
    this.#pc.onDataChannel((dc: DataChannel) => {
      if (this.#closed) return;
      const ch = new NdcChannel(
        dc,
        () => this.#channels.delete(ch),
        () => (this.#lastInbound = performance.now()),
      );
      this.#channels.add(ch);
      this.onChannel?.(ch);
    });
  }

  get state(): PeerState {
    return this.#closed ? 'closed' : this.#state;
  }

  get lastInboundAt(): number {
    return this.#lastInbound;
  }

  /**
   * An outgoing video stream, sent on the first video section of the offer that can take it: a `sendrecv` one (the
   * video back, on the same track the client's video arrives on) or a `recvonly` one (a WHEP viewer). Frames given to
   * it before the connection is up are dropped; with no such section, all of them are.
   */
  addVideoOutput(): VideoOutput {
    const output = new NdcVideoOutput();
    if (!this.#answered && !this.#closed) this.#outputs.push(output);
    return output;
  }

  async answer(offerSdp: string, trickle = false): Promise<string> {
    if (this.#answered) throw new AnswerFailedError('this engine cannot renegotiate a live connection (resume the session on a new one)');
    this.#answered = true;
    const sections = parseOfferMedia(offerSdp);
    for (const section of sections) {
      if (section.rejected || section.direction === 'inactive') continue;
      if (section.kind === 'video') {
        const receive = section.direction !== 'recvonly';
        const output = section.direction !== 'sendonly' ? this.#outputs.find((o) => !o.attached) : undefined;
        if (receive || output) this.#video(section, receive, output);
      } else if (section.kind === 'audio' && section.direction !== 'recvonly') this.#receiveAudio(section);
    }
    try {
      this.#pc.setRemoteDescription(offerSdp, 'offer');
    } catch (err) {
      throw new InvalidOfferError(err instanceof Error ? err.message : String(err));
    }
    if (!trickle) {
      await Promise.race([this.#gathered, new Promise((r) => setTimeout(r, this.#opts.iceGatheringTimeoutMs))]);
      // The candidates are in the answer; nothing to trickle later.
      this.#pendingCandidates = [];
    }
    if (this.#closed) throw new AnswerFailedError('the peer connection closed while answering');
    const sdp = this.#pc.localDescription()?.sdp;
    if (!sdp) throw new AnswerFailedError('the engine produced no local description');
    if (this.#receivers.size > 0 || this.#senders.size > 0) this.#timer = setInterval(() => this.#tick(), TICK_MS);
    return this.#opts.announcedIp ? announceIp(sdp, this.#opts.announcedIp) : sdp;
  }

  takeLocalCandidates(): { candidates: Array<{ mid: string | null; candidate: string }>; complete: boolean } {
    const candidates = this.#pendingCandidates;
    this.#pendingCandidates = [];
    return { candidates, complete: this.#pc.gatheringState() === 'complete' };
  }

  async addRemoteCandidate(candidate: string, mid: string | null): Promise<void> {
    if (this.#closed) return;
    this.#pc.addRemoteCandidate(candidate.startsWith('candidate:') ? candidate : `candidate:${candidate}`, mid ?? '0');
  }

  /** Counters of every video track's receive path, summed (for /metrics and tests). */
  get videoCounters(): VideoReceiver['counters'][] {
    return [...this.#receivers].map((r) => r.counters);
  }

  /** Counters of every video track's send path (video back, WHEP). */
  get videoSendCounters(): VideoSenderCounters[] {
    return [...this.#senders].map((s) => s.counters);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopGatheringWait();
    if (this.#timer) clearInterval(this.#timer);
    for (const r of this.#receivers) r.close();
    this.#receivers.clear();
    for (const s of this.#senders) s.close();
    this.#senders.clear();
    for (const c of this.#closers) c();
    this.#closers.clear();
    for (const ch of this.#channels) ch.detach();
    this.#channels.clear();
    for (const t of this.#tracks) t.close();
    this.#tracks.clear();
    this.#pc.close();
    peerClosed();
    this.onVideoFrame = this.onAudioFrame = undefined;
    this.onChannel = this.onStateChange = undefined;
  }

  /** A track, retained until libdatachannel reports it closed (see native-lifetime.ts). */
  #addTrack(media: Parameters<PeerConnection['addTrack']>[0]): Track {
    const track = this.#pc.addTrack(media);
    retain(track);
    track.onClosed(() => release(track));
    this.#tracks.add(track);
    return track;
  }

  #tick(): void {
    const now = performance.now();
    for (const r of this.#receivers) r.tick(now);
    for (const s of this.#senders) s.tick(now);
  }

  /**
   * One video section: received (the client sends), sent (`output`: video back on a sendrecv section, a WHEP viewer
   * on a recvonly one), or both on one track. The codec is the first of `--video-codecs` offered, among those this
   * build can encode when something is sent; the answer carries it (+ RTX when offered) and, when sending, our SSRC.
   */
  #video(section: ReturnType<typeof parseOfferMedia>[number], receive: boolean, output: NdcVideoOutput | undefined): void {
    const preference = output ? this.#opts.videoCodecs.filter((c) => this.#opts.encodableCodecs.includes(c)) : this.#opts.videoCodecs;
    const chosen = chooseVideoCodec(section, preference);
    if (!chosen) throw new UnsupportedCodecError(offeredVideoNames(section), preference);
    const codec = chosen.codec as VideoCodec;
    const video = new nodeDataChannel.Video(section.mid, receive && output ? 'SendRecv' : output ? 'SendOnly' : 'RecvOnly');
    const { pt, fmtp } = chosen.format;
    if (fmtp) video.addVideoCodec(pt, codec, fmtp);
    else if (codec === 'H264') video.addH264Codec(pt);
    else if (codec === 'VP8') video.addVP8Codec(pt);
    else if (codec === 'VP9') video.addVP9Codec(pt);
    else if (codec === 'AV1') video.addAV1Codec(pt);
    else video.addH265Codec(pt);
    if (chosen.rtxPt !== undefined) video.addRTXCodec(chosen.rtxPt, pt, 90_000);
    // The browser finds our stream by this SSRC: libdatachannel sends no MID header extension.
    const ssrc = randomInt(1, 0xffffffff);
    if (output) video.addSSRC(ssrc, 'sightline', 'sightline', 'processed');
    const track = this.#addTrack(video);
    const sendOnTrack = (packet: Uint8Array): boolean =>
      track.isOpen() && track.sendMessageBinary(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    const receiver = receive
      ? new VideoReceiver({
          codec,
          payloadType: pt,
          rtxPayloadType: chosen.rtxPt,
          decoder: this.#opts.createDecoder(codec),
          sendRtcp: sendOnTrack,
          onFrame: (frame) => this.onVideoFrame?.(frame),
          maxBitrateBps: this.#opts.maxBitrateBps,
        })
      : undefined;
    if (receiver) this.#receivers.add(receiver);
    let sender: VideoSender | undefined;
    if (output) {
      sender = new VideoSender({
        codec,
        payloadType: pt,
        ssrc,
        isOpen: () => track.isOpen(),
        send: sendOnTrack,
        createEncoder: this.#opts.createEncoder,
      });
      this.#senders.add(sender);
      output.attach(sender);
    }
    track.onMessage((buf) => {
      this.#lastInbound = performance.now();
      if (sender && isRtcp(buf)) sender.onRtcp(buf);
      receiver?.onPacket(buf);
    });
  }

  #receiveAudio(section: ReturnType<typeof parseOfferMedia>[number]): void {
    const chosen = chooseAudioCodec(section);
    if (!chosen) return; // no Opus: the section is answered inactive by libdatachannel
    const audio = new nodeDataChannel.Audio(section.mid, 'RecvOnly');
    if (chosen.format.fmtp) audio.addOpusCodec(chosen.format.pt, chosen.format.fmtp);
    else audio.addOpusCodec(chosen.format.pt);
    const track = this.#addTrack(audio);
    const receiver = this.#opts.createAudioReceiver?.(chosen.format.pt, (chunk) => this.onAudioFrame?.(chunk));
    if (!receiver) return;
    this.#closers.add(() => receiver.close());
    track.onMessage((buf) => {
      this.#lastInbound = performance.now();
      receiver.onPacket(buf);
    });
  }
}

/** The `VideoOutput` handed out before the answer: frames go to its sender once one is attached. */
class NdcVideoOutput implements VideoOutput {
  #sender: VideoSender | undefined;
  #stopped = false;

  get attached(): boolean {
    return this.#sender !== undefined;
  }

  attach(sender: VideoSender): void {
    this.#sender = sender;
    if (this.#stopped) sender.close();
  }

  send(frame: I420Frame): void {
    if (!this.#stopped) this.#sender?.sendFrame(frame);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#sender?.close();
  }
}
