/**
 * The few Matroska (EBML) bytes ffmpeg needs to read raw I420 video and s16le PCM with explicit timestamps from one
 * pipe: a header (segment of unknown size, millisecond timestamps, up to two tracks) and one small cluster per
 * block. Pure: returns buffers, writes nothing.
 */

export const VIDEO_TRACK = 1;
export const AUDIO_TRACK = 2;

export interface MkvVideoTrack {
  width: number;
  height: number;
}

export interface MkvAudioTrack {
  sampleRate: number;
  channels: number;
}

/** EBML variable-size integer for an element's data size. */
function vsize(n: number): Buffer {
  for (let len = 1; len <= 7; len++) {
    if (n < 2 ** (7 * len) - 1) {
      const b = Buffer.alloc(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        b[i] = v % 256;
        v = Math.floor(v / 256);
      }
      b[0]! |= 0x80 >> (len - 1);
      return b;
    }
  }
  throw new RangeError(`element too large: ${n} bytes`);
}

function uintBytes(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    out.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return Buffer.from(out);
}

function el(id: number, data: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(data) ? Buffer.concat(data) : data;
  return Buffer.concat([uintBytes(id), vsize(body.length), body]);
}

const uint = (id: number, n: number): Buffer => el(id, uintBytes(n));
const str = (id: number, s: string): Buffer => el(id, Buffer.from(s, 'ascii'));
function float(id: number, x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return el(id, b);
}

/** EBML header + Segment start (size unknown, for a live stream) + Info + Tracks. */
export function mkvHeader(video: MkvVideoTrack | null, audio: MkvAudioTrack | null): Buffer {
  const ebml = el(0x1a45dfa3, [uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8), str(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2)]);
  const segmentStart = Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const info = el(0x1549a966, [uint(0x2ad7b1, 1_000_000), str(0x4d80, 'sightline'), str(0x5741, 'sightline')]);
  const tracks: Buffer[] = [];
  if (video) {
    tracks.push(
      el(0xae, [
        uint(0xd7, VIDEO_TRACK),
        uint(0x73c5, VIDEO_TRACK),
        uint(0x83, 1),
        uint(0x9c, 0),
        str(0x86, 'V_UNCOMPRESSED'),
        el(0xe0, [uint(0xb0, video.width), uint(0xba, video.height), el(0x2eb524, Buffer.from('I420', 'ascii'))]),
      ]),
    );
  }
  if (audio) {
    tracks.push(
      el(0xae, [
        uint(0xd7, AUDIO_TRACK),
        uint(0x73c5, AUDIO_TRACK),
        uint(0x83, 2),
        uint(0x9c, 0),
        str(0x86, 'A_PCM/INT/LIT'),
        el(0xe1, [float(0xb5, audio.sampleRate), uint(0x9f, audio.channels), uint(0x6264, 16)]),
      ]),
    );
  }
  return Buffer.concat([ebml, segmentStart, info, el(0x1654ae6b, tracks)]);
}

/**
 * The bytes that precede a block's payload of `payloadBytes` bytes at `timestampMs` (non-negative integer): a
 * Cluster holding its Timestamp and one keyframe SimpleBlock. Write the payload right after them.
 */
export function mkvBlockHead(track: number, timestampMs: number, payloadBytes: number): Buffer {
  const ts = uint(0xe7, timestampMs);
  const blockHead = Buffer.from([0x80 | track, 0, 0, 0x80]);
  const sbSize = vsize(blockHead.length + payloadBytes);
  const clusterBody = ts.length + 1 + sbSize.length + blockHead.length + payloadBytes;
  return Buffer.concat([Buffer.from([0x1f, 0x43, 0xb6, 0x75]), vsize(clusterBody), ts, Buffer.from([0xa3]), sbSize, blockHead]);
}
