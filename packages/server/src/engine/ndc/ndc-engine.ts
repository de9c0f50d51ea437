import { ffmpegEncoderOn, videoEncoderName, type AudioChunk, type CodecDevice, type FrameEncoderFactory } from '@sightline/media';
import type { MediaEngine } from '../media-engine.js';
import { DEFAULT_VIDEO_CODECS, VIDEO_CODECS, type VideoCodec } from './codec-choice.js';
import { NdcPeer } from './ndc-peer.js';
import type { AccessUnitDecoder } from './video-receiver.js';

/** A decoder for one received track; `device` is the engine's `codecDevice`, when it has one. */
export type VideoDecoderFactory = (codec: VideoCodec, device?: CodecDevice) => AccessUnitDecoder;

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
  /** Where the FFmpeg codecs run (`--codec-device`, opened at start): given to `createDecoder` and the default encoders. */
  codecDevice?: CodecDevice;
  /** All sessions on one UDP port (`--rtc-port`, given as a one-port range), as firewalls and Kubernetes like it. */
  iceUdpMux?: boolean;
}

/** The libdatachannel engine: transport from node-datachannel, codecs in-process from FFmpeg. */
export function createNdcEngine(opts: NdcEngineOptions): MediaEngine {
  const videoCodecs = opts.videoCodecs ?? DEFAULT_VIDEO_CODECS;
  const device = opts.codecDevice;
  const createDecoder: VideoDecoderFactory = device ? (codec) => opts.createDecoder(codec, device) : opts.createDecoder;
  const createEncoder = opts.createEncoder ?? ffmpegEncoderOn(device);
  // With the default encoders, the codecs this FFmpeg build has an encoder for; a given factory is trusted with all.
  const encodableCodecs = opts.createEncoder ? VIDEO_CODECS : VIDEO_CODECS.filter((c) => videoEncoderName(c, device) !== undefined);
  return {
    name: 'ndc',
    createPeer: (peer) =>
      new NdcPeer({
        ...peer,
        videoCodecs,
        maxBitrateBps: opts.maxBitrateBps ?? 2_500_000,
        createDecoder,
        createEncoder,
        encodableCodecs,
        createAudioReceiver: opts.createAudioReceiver,
        iceUdpMux: opts.iceUdpMux ?? false,
      }),
  };
}
