import { SightlineError } from '../../errors.js';
import { VIDEO_CODECS, type VideoCodec } from '@sightline/media';
import { fmtpParams, type OfferMediaSection, type PayloadFormat } from './offer-media.js';

export { VIDEO_CODECS, type VideoCodec };

/** The default preference order (`--video-codecs`): H.264 first, as hardware encoders (phones, cameras, OBS) send it. */
export const DEFAULT_VIDEO_CODECS: readonly VideoCodec[] = ['H264', 'VP8', 'VP9', 'AV1', 'H265'];

export interface ChosenCodec {
  codec: VideoCodec | 'opus';
  format: PayloadFormat;
  /** The RTX payload type that repairs `format`, when the offer has one. */
  rtxPt: number | undefined;
}

/** An offer whose video the server cannot decode: a 400 at once, naming what it can. */
export class UnsupportedCodecError extends SightlineError {
  constructor(offered: string[], supported: readonly string[]) {
    super(
      'unsupported_codec',
      `no video codec of the offer can be decoded here (offered: ${offered.length > 0 ? offered.join(', ') : 'none'}; supported: ${supported.join(', ')})`,
    );
    this.name = 'UnsupportedCodecError';
  }
}

/** The SDP name of a format as a `VideoCodec` (HEVC is H265), or undefined. */
export function videoCodecOf(name: string): VideoCodec | undefined {
  const n = name.toUpperCase();
  if (n === 'HEVC') return 'H265';
  return (VIDEO_CODECS as readonly string[]).includes(n) ? (n as VideoCodec) : undefined;
}

/**
 * Ranks the H.264 formats of one codec: packetization-mode 1 (FU-A; mode 0 means one NAL unit a packet), then
 * constrained baseline / baseline (no B-frames by definition), then any.
 */
function h264Rank(f: PayloadFormat): number {
  const p = fmtpParams(f.fmtp);
  const mode1 = p.get('packetization-mode') === '1' ? 0 : 2;
  const profile = (p.get('profile-level-id') ?? '').slice(0, 2).toLowerCase();
  return mode1 + (profile === '42' || profile === '' ? 0 : 1);
}

/** The first codec of `preference` the section offers (and its best format); undefined when none. */
export function chooseVideoCodec(section: OfferMediaSection, preference: readonly VideoCodec[]): ChosenCodec | undefined {
  for (const codec of preference) {
    const formats = section.formats.filter((f) => videoCodecOf(f.name) === codec);
    if (formats.length === 0) continue;
    const format = codec === 'H264' ? [...formats].sort((a, b) => h264Rank(a) - h264Rank(b))[0]! : formats[0]!;
    const rtxPt = [...section.rtx].find(([, apt]) => apt === format.pt)?.[0];
    return { codec, format, rtxPt };
  }
  return undefined;
}

/** The Opus format of an audio section, if offered (the only audio codec WebRTC requires). */
export function chooseAudioCodec(section: OfferMediaSection): ChosenCodec | undefined {
  const format = section.formats.find((f) => f.name.toLowerCase() === 'opus' && f.clockRate === 48000);
  return format ? { codec: 'opus', format, rtxPt: undefined } : undefined;
}

/** The names of the video formats offered (for the error), without RTX/RED/FEC. */
export function offeredVideoNames(section: OfferMediaSection): string[] {
  return [...new Set(section.formats.map((f) => f.name).filter((n) => n && !/^(rtx|red|ulpfec|flexfec-03)$/i.test(n)))];
}
