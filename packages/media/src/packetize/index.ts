/**
 * RTP packetizers for the video the libdatachannel engine sends (video back, WHEP): an encoded frame in, RTP payloads
 * out, in pure JS for every codec. libdatachannel has packetizers for H.264/H.265/AV1 only, and a track with one in
 * its media handler chain would packetize the RTCP the receive path sends on the same track as well.
 */
import type { VideoCodec } from '../codecs/video-codec.js';
import { Av1Packetizer } from './av1.js';
import { H264Packetizer } from './h264.js';
import { H265Packetizer } from './h265.js';
import type { Packetizer, PacketizerOptions } from './types.js';
import { Vp8Packetizer } from './vp8.js';
import { Vp9Packetizer } from './vp9.js';

export { splitAnnexB } from './annex-b.js';
export { av1ObuElements } from './av1.js';
export { DEFAULT_MAX_PAYLOAD_SIZE, evenSplit, type Packetizer, type PacketizerOptions } from './types.js';
export { Av1Packetizer, H264Packetizer, H265Packetizer, Vp8Packetizer, Vp9Packetizer };

/** A new packetizer for one outgoing stream of `codec`. */
export function packetizerFor(codec: VideoCodec, options: PacketizerOptions = {}): Packetizer {
  switch (codec) {
    case 'H264':
      return new H264Packetizer(options);
    case 'H265':
      return new H265Packetizer(options);
    case 'VP8':
      return new Vp8Packetizer(options);
    case 'VP9':
      return new Vp9Packetizer(options);
    case 'AV1':
      return new Av1Packetizer(options);
  }
}
