import nodeDataChannel, { type DataChannel, type IceServer, type PeerConnection, type Track } from 'node-datachannel';
import { announceIp } from '../announce-ip.js';
import { AnswerFailedError, InvalidOfferError, type EnginePeer, type PeerOptions, type PeerState, type VideoOutput } from '../media-engine.js';
import { chooseAudioCodec, chooseVideoCodec, offeredVideoNames, UnsupportedCodecError, type VideoCodec } from './codec-choice.js';
import { NdcChannel } from './ndc-channel.js';
import { release, retain } from './native-lifetime.js';
import { parseOfferMedia } from './offer-media.js';
import type { AudioReceiverFactory, VideoDecoderFactory } from './ndc-engine.js';
import { VideoReceiver } from './video-receiver.js';

export interface NdcPeerOptions extends PeerOptions {
  videoCodecs: readonly VideoCodec[];
  maxBitrateBps: number;
  createDecoder: VideoDecoderFactory;
  createAudioReceiver: AudioReceiverFactory | undefined;
  /** Listen for every session on one UDP port (libdatachannel's ICE UDP mux) instead of a port per session. */
  iceUdpMux: boolean;
}

const TICK_MS = 5;

/** `{urls, username, credential}` → libdatachannel's ICE server form (one entry per URL). */
function iceServersOf(servers: PeerOptions['iceServers']): Array<string | IceServer> {
  const out: Array<string | IceServer> = [];
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      const m = /^(stun|turns?):([^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
      if (!m) continue;
      const [, scheme, hostname, port, transport] = m;
      if (scheme === 'stun') out.push(`stun:${hostname}:${port ?? 3478}`);
      else
        out.push({
          hostname: hostname!,
          port: Number(port ?? (scheme === 'turns' ? 5349 : 3478)),
          ...(s.username !== undefined ? { username: s.username } : {}),
          ...(s.credential !== undefined ? { password: s.credential } : {}),
          relayType: scheme === 'turns' ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp',
        });
    }
  }
  return out;
}

/**
 * One peer connection on libdatachannel. The answer is built from the offer: per video section the first codec of
 * `--video-codecs` it offers (with RTX), Opus for audio; a section whose video nothing here decodes is a 400
 * `unsupported_codec` at once. Each received track has its own receive path (`VideoReceiver`); DataChannels are the
 * client's. `close()` frees the native connection at once.
 */
export class NdcPeer implements EnginePeer {
  onVideoFrame: EnginePeer['onVideoFrame'];
  onAudioFrame: EnginePeer['onAudioFrame'];
  onChannel: EnginePeer['onChannel'];
  onStateChange: EnginePeer['onStateChange'];
  readonly #opts: NdcPeerOptions;
  readonly #pc: PeerConnection;
  readonly #channels = new Set<NdcChannel>();
  readonly #tracks = new Set<Track>();
  readonly #receivers = new Set<VideoReceiver>();
  readonly #closers = new Set<() => void>();
  readonly #gathered: Promise<void>;
  #pendingCandidates: Array<{ mid: string | null; candidate: string }> = [];
  #state: PeerState = 'new';
  #timer: NodeJS.Timeout | undefined;
  #answered = false;
  #closed = false;

  constructor(opts: NdcPeerOptions) {
    this.#opts = opts;
    this.#pc = new nodeDataChannel.PeerConnection('sightline', {
      iceServers: iceServersOf(opts.iceServers),
      ...(opts.portRange ? { portRangeBegin: opts.portRange.min, portRangeEnd: opts.portRange.max } : {}),
      ...(opts.iceUdpMux ? { enableIceUdpMux: true } : {}),
      maxMessageSize: 1 << 20,
    });
    // Registered before anything negotiates, or `complete` can be missed.
    this.#gathered = new Promise<void>((resolve) => {
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
      this.#state = state;
      this.onStateChange?.(state);
    });
    this.#pc.onDataChannel((dc: DataChannel) => {
      if (this.#closed) return;
      const ch = new NdcChannel(dc, () => this.#channels.delete(ch));
      this.#channels.add(ch);
      this.onChannel?.(ch);
    });
  }

  get state(): PeerState {
    return this.#closed ? 'closed' : this.#state;
  }

  addVideoOutput(): VideoOutput {
    throw new AnswerFailedError('the node-datachannel engine does not send video yet');
  }

  async answer(offerSdp: string, trickle = false): Promise<string> {
    if (this.#answered) throw new AnswerFailedError('renegotiation (ICE restart) is not supported by this engine yet');
    this.#answered = true;
    const sections = parseOfferMedia(offerSdp);
    for (const section of sections) {
      if (section.rejected || section.direction === 'inactive' || section.direction === 'recvonly') continue;
      if (section.kind === 'video') this.#receiveVideo(section);
      else if (section.kind === 'audio') this.#receiveAudio(section);
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
    if (this.#receivers.size > 0) this.#timer = setInterval(() => this.#tick(), TICK_MS);
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const r of this.#receivers) r.close();
    this.#receivers.clear();
    for (const c of this.#closers) c();
    this.#closers.clear();
    for (const ch of this.#channels) ch.detach();
    this.#channels.clear();
    for (const t of this.#tracks) t.close();
    this.#tracks.clear();
    this.#pc.close();
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
  }

  #receiveVideo(section: ReturnType<typeof parseOfferMedia>[number]): void {
    const chosen = chooseVideoCodec(section, this.#opts.videoCodecs);
    if (!chosen) throw new UnsupportedCodecError(offeredVideoNames(section), this.#opts.videoCodecs);
    const video = new nodeDataChannel.Video(section.mid, 'RecvOnly');
    const { pt, fmtp } = chosen.format;
    if (fmtp) video.addVideoCodec(pt, chosen.codec, fmtp);
    else if (chosen.codec === 'H264') video.addH264Codec(pt);
    else if (chosen.codec === 'VP8') video.addVP8Codec(pt);
    else if (chosen.codec === 'VP9') video.addVP9Codec(pt);
    else if (chosen.codec === 'AV1') video.addAV1Codec(pt);
    else video.addH265Codec(pt);
    if (chosen.rtxPt !== undefined) video.addRTXCodec(chosen.rtxPt, pt, 90_000);
    const track = this.#addTrack(video);
    const receiver = new VideoReceiver({
      codec: chosen.codec as VideoCodec,
      payloadType: pt,
      rtxPayloadType: chosen.rtxPt,
      decoder: this.#opts.createDecoder(chosen.codec as VideoCodec),
      sendRtcp: (packet) => {
        if (track.isOpen()) track.sendMessageBinary(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
      },
      onFrame: (frame) => this.onVideoFrame?.(frame),
      maxBitrateBps: this.#opts.maxBitrateBps,
    });
    this.#receivers.add(receiver);
    track.onMessage((buf) => receiver.onPacket(buf));
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
    track.onMessage((buf) => receiver.onPacket(buf));
  }
}
