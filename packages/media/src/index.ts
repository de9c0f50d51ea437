/**
 * @sightline/media: the media plumbing the server and the Node client share. Plain data types (`media-frames`),
 * RTP/RTCP (`rtp/`), depacketizers and packetizers per codec, FFmpeg codecs in-process through node-av (`codecs/`),
 * the send path of one video or audio track (`send/`), and what node-datachannel objects need (`ndc/`).
 */
export * from './media-frames.js';
export * from './codecs/index.js';
export * from './depacketize/index.js';
export * from './packetize/index.js';
export * from './rtp/frame-numbering.js';
export * from './rtp/nack-tracker.js';
export * from './rtp/receive-stats.js';
export * from './rtp/reorder-buffer.js';
export * from './rtp/rtcp.js';
export * from './rtp/rtp-packet.js';
export * from './rtp/rtx.js';
export * from './rtp/sequence-number.js';
export * from './send/video-sender.js';
export * from './send/audio-sender.js';
export * from './ndc/native-lifetime.js';
export * from './ndc/ice-servers.js';
