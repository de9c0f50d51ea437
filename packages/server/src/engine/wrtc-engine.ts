import { announceIp } from './announce-ip.js';
import { wrtc, type WrtcAudioSink, type WrtcDataChannel, type WrtcPeerConnection, type WrtcTrack, type WrtcVideoSink } from './wrtc-binding.js';
import {
  AnswerFailedError,
  InvalidOfferError,
  type EngineChannel,
  type EnginePeer,
  type MediaEngine,
  type PeerOptions,
  type PeerState,
  type VideoOutput,
} from './media-engine.js';

const { RTCPeerConnection, nonstandard } = wrtc;

class WrtcChannel implements EngineChannel {
  onMessage: EngineChannel['onMessage'];
  onOpen: EngineChannel['onOpen'];
  onClose: EngineChannel['onClose'];
  constructor(
    readonly dc: WrtcDataChannel,
    forget: () => void,
  ) {
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (e) => this.onMessage?.(e.data);
    dc.onopen = () => this.onOpen?.();
    dc.onclose = () => {
      forget();
      this.onClose?.();
    };
  }
  get label(): string {
    return this.dc.label;
  }
  get open(): boolean {
    return this.dc.readyState === 'open';
  }
  get bufferedAmount(): number {
    return this.dc.bufferedAmount;
  }
  send(text: string): boolean {
    if (this.dc.readyState !== 'open') return false;
    try {
      this.dc.send(text);
      return true;
    } catch {
      return false;
    }
  }
}

class WrtcPeer implements EnginePeer {
  readonly restartsIce = true;
  onVideoFrame: EnginePeer['onVideoFrame'];
  onAudioFrame: EnginePeer['onAudioFrame'];
  onChannel: EnginePeer['onChannel'];
  onStateChange: EnginePeer['onStateChange'];
  readonly #pc: WrtcPeerConnection;
  readonly #opts: PeerOptions;
  readonly #sinks = new Set<WrtcVideoSink>();
  readonly #audioSinks = new Set<WrtcAudioSink>();
  readonly #channels = new Set<WrtcChannel>();
  readonly #outputs = new Set<WrtcTrack>();
  #pendingCandidates: Array<{ mid: string | null; candidate: string }> = [];
  #closed = false;

  constructor(opts: PeerOptions) {
    this.#opts = opts;
    // portRange is a wrtc extension of RTCConfiguration.
    this.#pc = new RTCPeerConnection({ iceServers: opts.iceServers, ...(opts.portRange ? { portRange: opts.portRange } : {}) });
    this.#pc.ontrack = ({ track }) => {
      if (this.#closed) return;
      if (track.kind === 'audio') {
        const sink = new nonstandard.RTCAudioSink(track);
        // 16-bit PCM, interleaved; copied so the chunk outlives the callback whatever wrtc does with its buffer.
        sink.ondata = (d) => {
          if (d.bitsPerSample === 16)
            this.onAudioFrame?.({ samples: d.samples.slice(0, d.numberOfFrames * d.channelCount), sampleRate: d.sampleRate, channels: d.channelCount });
        };
        this.#audioSinks.add(sink);
        return;
      }
      if (track.kind !== 'video') return;
      const sink = new nonstandard.RTCVideoSink(track);
      sink.onframe = ({ frame }) => this.onVideoFrame?.(frame);
      this.#sinks.add(sink);
    };
    this.#pc.ondatachannel = ({ channel }) => {
      if (this.#closed) return;
      const ch = new WrtcChannel(channel, () => this.#channels.delete(ch));
      this.#channels.add(ch);
      this.onChannel?.(ch);
    };
    this.#pc.onconnectionstatechange = () => this.onStateChange?.(this.#pc.connectionState);
    this.#pc.onicecandidate = (e) => {
      if (!e.candidate?.candidate) return;
      const c = this.#opts.announcedIp ? announceIp(`a=${e.candidate.candidate}`, this.#opts.announcedIp).slice(2) : e.candidate.candidate;
      this.#pendingCandidates.push({ mid: e.candidate.sdpMid, candidate: c });
    };
  }

  addVideoOutput(): VideoOutput {
    const source = new nonstandard.RTCVideoSource();
    const track = source.createTrack();
    this.#pc.addTrack(track);
    this.#outputs.add(track);
    let stopped = false;
    return {
      send: (frame) => {
        if (!stopped && !this.#closed) source.onFrame(frame);
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        track.stop();
        this.#outputs.delete(track);
      },
    };
  }

  takeLocalCandidates(): { candidates: Array<{ mid: string | null; candidate: string }>; complete: boolean } {
    const candidates = this.#pendingCandidates;
    this.#pendingCandidates = [];
    return { candidates, complete: this.#pc.iceGatheringState === 'complete' };
  }

  get state(): PeerState {
    return this.#closed ? 'closed' : this.#pc.connectionState;
  }

  async answer(offerSdp: string, trickle = false): Promise<string> {
    try {
      await this.#pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (err) {
      throw new InvalidOfferError(err instanceof Error ? err.message : String(err));
    }
    let answer: { type: string; sdp: string };
    try {
      answer = await this.#pc.createAnswer();
    } catch (err) {
      // Nothing in the offer could be answered (e.g. no codec in common).
      throw new InvalidOfferError(err instanceof Error ? err.message : String(err));
    }
    const gathered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.#opts.iceGatheringTimeoutMs);
      this.#pc.onicegatheringstatechange = () => {
        if (this.#pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    try {
      await this.#pc.setLocalDescription(answer);
    } catch (err) {
      throw new AnswerFailedError(err instanceof Error ? err.message : String(err));
    }
    if (!trickle && this.#pc.iceGatheringState !== 'complete') await gathered;
    if (!trickle) {
      this.#pc.onicegatheringstatechange = null;
      // Non-trickle: the candidates are in the answer; nothing to trickle later.
      this.#pendingCandidates = [];
    }
    if (this.#closed) throw new AnswerFailedError('the peer connection closed while answering');
    const sdp = this.#pc.localDescription?.sdp;
    if (!sdp) throw new AnswerFailedError('the engine produced no local description');
    return this.#opts.announcedIp ? announceIp(sdp, this.#opts.announcedIp) : sdp;
  }

  async addRemoteCandidate(candidate: string, mid: string | null): Promise<void> {
    if (this.#closed) return;
    await this.#pc.addIceCandidate({ candidate, sdpMid: mid, sdpMLineIndex: mid === null ? 0 : null });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Order matters with wrtc: stop every sink before closing the connection (native teardown).
    for (const s of this.#sinks) {
      s.onframe = null;
      s.stop();
    }
    this.#sinks.clear();
    for (const s of this.#audioSinks) {
      s.ondata = null;
      s.stop();
    }
    this.#audioSinks.clear();
    for (const t of this.#outputs) t.stop();
    this.#outputs.clear();
    for (const ch of this.#channels) {
      ch.onMessage = ch.onOpen = ch.onClose = undefined;
      ch.dc.onmessage = ch.dc.onopen = ch.dc.onclose = null;
    }
    this.#channels.clear();
    this.#pc.ontrack = this.#pc.ondatachannel = this.#pc.onconnectionstatechange = null;
    this.#pc.onicecandidate = this.#pc.onicegatheringstatechange = null;
    this.#pc.close();
    this.onVideoFrame = this.onAudioFrame = undefined;
    this.onChannel = this.onStateChange = undefined;
  }
}

/** The @roamhq/wrtc (libwebrtc) engine. */
export const wrtcEngine: MediaEngine = {
  name: 'wrtc',
  createPeer: (opts) => new WrtcPeer(opts),
};
