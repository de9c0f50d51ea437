import { videoEncoderName } from '../codecs/video-encoder.js';
import type { AudioChunk } from '../media-frames.js';
import type { MediaEngine } from '../media-engine.js';
import { DEFAULT_VIDEO_CODECS, VIDEO_CODECS, type VideoCodec } from './codec-choice.js';
import { NdcPeer } from './ndc-peer.js';
import type { AccessUnitDecoder } from './video-receiver.js';
import { ffmpegEncoder, type FrameEncoderFactory } from './video-sender.js';

export type VideoDecoderFactory = (codec: VideoCodec) => AccessUnitDecoder;

/** The receive path of one audio track: RTP in, decoded PCM out. */
export interface AudioReceiver {
  onPacket(buf: Uint8Array): void;
  close(): void;
}
export type AudioReceiverFactory = (payloadType: number, onChunk: (chunk: AudioChunk) => void) => AudioReceiver;

export interface NdcEngineOptions {
  /** Preference order of the video codecs answered (`--video-codecs`). */
  videoCodecs?: readonly VideoCodec[];
  /** The bitrate announced to senders (REMB). */
  maxBitrateBps?: number;
  createDecoder: VideoDecoderFactory;
  /** Encoders for the video sent back and to WHEP viewers (default: libavcodec's, engine/codecs). */
  createEncoder?: FrameEncoderFactory;
  createAudioReceiver?: AudioReceiverFactory;
  /** All sessions on one UDP port (the first of `--rtc-port-min`), as firewalls and Kubernetes like it. */
  iceUdpMux?: boolean;
}

/** The libdatachannel engine: transport from node-datachannel, codecs in-process from FFmpeg. */
export function createNdcEngine(opts: NdcEngineOptions): MediaEngine {
  const videoCodecs = opts.videoCodecs ?? DEFAULT_VIDEO_CODECS;
  const createEncoder = opts.createEncoder ?? ffmpegEncoder;
  // With the default encoders, the codecs this FFmpeg build has an encoder for; a given factory is trusted with all.
  const encodableCodecs = opts.createEncoder ? VIDEO_CODECS : VIDEO_CODECS.filter((c) => videoEncoderName(c) !== undefined);
  return {
    name: 'ndc',
    createPeer: (peer) =>
      new NdcPeer({
        ...peer,
        videoCodecs,
        maxBitrateBps: opts.maxBitrateBps ?? 2_500_000,
        createDecoder: opts.createDecoder,
        createEncoder,
        encodableCodecs,
        createAudioReceiver: opts.createAudioReceiver,
        iceUdpMux: opts.iceUdpMux ?? false,
      }),
  };
}
