/**
 * The codec layer of the libdatachannel engine: libavcodec in-process through node-av, synchronous and holding no
 * frame. Video: decoders for H.264, H.265, VP8, VP9 and AV1 (I420 out), encoders for the video sent back. Audio: Opus
 * both ways (48 kHz 16-bit PCM).
 */
export { inspectAccessUnit, type AccessUnitKind } from './access-unit.js';
export { quietFfmpegLogs } from './ffmpeg-log.js';
export { FrameToI420 } from './frame-to-i420.js';
export {
  CODEC_DEVICES,
  CPU_CODEC_DEVICE,
  openCodecDevice,
  type CodecDevice,
  type HardwareKind,
  type HwDevice,
  type OpenCodecDeviceOptions,
} from './hw-device.js';
export { i420Size } from './i420-size.js';
export { OpusDecoder, OPUS_SAMPLE_RATE, type OpusDecodeResult, type OpusDecoderCounters, type OpusDecoderOptions } from './opus-decoder.js';
export { OpusEncoder, type EncodedAudio, type OpusEncoderOptions } from './opus-encoder.js';
export { VIDEO_CLOCK_RATE, VIDEO_CODECS, type VideoCodec } from './video-codec.js';
export { VideoDecoder, videoDecoderName, type DecodeResult, type DecodeStatus, type VideoDecoderCounters, type VideoDecoderOptions } from './video-decoder.js';
export { VideoEncoder, videoEncoderName, type EncodedVideo, type VideoEncoderCounters, type VideoEncoderOptions } from './video-encoder.js';
