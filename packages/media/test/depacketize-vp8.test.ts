import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { vp8Depacketizer } from '../src/depacketize/index.js';
import { assemble, chunks, concat, decodeFrameCrcs, encodeTestPattern, ffmpegEncoders, readIvf, stampRtp, WRAPPING, writeIvf } from './depacketize-helpers.js';

/**
 * A VP8 payload descriptor (RFC 7741 4.2). Picture IDs below 128 are written in 7 bits, others in 15 (M set);
 * `tid` also sets the T bit, `keyIdx` the K bit.
 */
function descriptor(opts: {
  start: boolean;
  partition?: number;
  nonReference?: boolean;
  pictureId?: number;
  tl0PicIdx?: number;
  tid?: number;
  keyIdx?: number;
}): Uint8Array {
  const { pictureId, tl0PicIdx, tid, keyIdx } = opts;
  const extended = pictureId !== undefined || tl0PicIdx !== undefined || tid !== undefined || keyIdx !== undefined;
  const bytes = [(extended ? 0x80 : 0) | (opts.nonReference ? 0x20 : 0) | (opts.start ? 0x10 : 0) | (opts.partition ?? 0)];
  if (extended) {
    bytes.push(
      (pictureId !== undefined ? 0x80 : 0) | (tl0PicIdx !== undefined ? 0x40 : 0) | (tid !== undefined ? 0x20 : 0) | (keyIdx !== undefined ? 0x10 : 0),
    );
    if (pictureId !== undefined) bytes.push(...(pictureId < 128 ? [pictureId] : [0x80 | (pictureId >> 8), pictureId & 0xff]));
    if (tl0PicIdx !== undefined) bytes.push(tl0PicIdx);
    if (tid !== undefined || keyIdx !== undefined) bytes.push(((tid ?? 0) << 6) | (keyIdx ?? 0));
  }
  return Uint8Array.from(bytes);
}

/**
 * Test-only packetizer (RFC 7741, non-partition-aligned): slices of at most `mtu` bytes, S and PID 0 on the first.
 * The descriptor varies by frame so that every optional field is read: none, a 7-bit or 15-bit PictureID, TL0PICIDX,
 * TID/KEYIDX.
 */
function packetize(frame: Uint8Array, index: number, mtu: number): Uint8Array[] {
  const variants = [
    {},
    { pictureId: 0x7f00 + index },
    { pictureId: index, tl0PicIdx: 200 + index, tid: index % 4 },
    { pictureId: 300 + index, keyIdx: 5 },
  ] as const;
  const fields = variants[index % variants.length]!;
  return chunks(frame, mtu).map((slice, i) => concat([descriptor({ start: i === 0, ...fields }), slice]));
}

describe('VP8 depacketizer (RFC 7741), hand-built packets', () => {
  const keyframeHeader = Uint8Array.of(0x50, 0x2d, 0x00, 0x9d, 0x01, 0x2a); // P bit (bit 0 of byte 0) clear
  const interHeader = Uint8Array.of(0x51, 0x02, 0x00);

  test('descriptor fields are skipped and the payloads concatenated; P bit 0 at the start is a keyframe', () => {
    const first = concat([descriptor({ start: true, pictureId: 4660, tl0PicIdx: 7, tid: 2, keyIdx: 3 }), keyframeHeader]);
    const second = concat([descriptor({ start: false, pictureId: 4660, tl0PicIdx: 7, tid: 2, keyIdx: 3 }), Uint8Array.of(1, 2, 3)]);
    const frame = vp8Depacketizer.depacketize([first, second]);
    assert.deepEqual(frame.data, concat([keyframeHeader, Uint8Array.of(1, 2, 3)]));
    assert.deepEqual([frame.keyframe, frame.complete, frame.pictureId], [true, true, 4660]);
    const inter = vp8Depacketizer.depacketize([concat([descriptor({ start: true, pictureId: 5 }), interHeader])]);
    assert.deepEqual([inter.keyframe, inter.pictureId, inter.data], [false, 5, interHeader]);
  });

  test('partition starts: only S with PID 0 starts a frame', () => {
    assert.equal(vp8Depacketizer.startsFrame(concat([descriptor({ start: true }), interHeader])), true);
    assert.equal(vp8Depacketizer.startsFrame(concat([descriptor({ start: true, partition: 1 }), interHeader])), false);
    assert.equal(vp8Depacketizer.startsFrame(concat([descriptor({ start: false }), interHeader])), false);
    const later = vp8Depacketizer.depacketize([concat([descriptor({ start: true, partition: 1 }), interHeader])]);
    assert.deepEqual([later.complete, later.keyframe], [false, false]);
    assert.match(later.problem!, /partition 0/);
  });

  test('a descriptor cut short is malformed', () => {
    const frame = vp8Depacketizer.depacketize([Uint8Array.of(0x90, 0x80, 0x80)]); // X, I, M: 15-bit PictureID missing its second byte
    assert.equal(frame.complete, false);
    assert.match(frame.problem!, /descriptor/);
  });
});

describe('VP8 against libvpx output', () => {
  const hasEncoder = ffmpegEncoders().has('libvpx');

  test('a real stream split at 500 bytes reassembles byte-identical and decodes the same', { skip: !hasEncoder && 'this ffmpeg has no libvpx' }, () => {
    const ivf = encodeTestPattern(['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '4', '-auto-alt-ref', '0', '-lag-in-frames', '0'], 'ivf');
    const { header, frames: encoded } = readIvf(ivf);
    assert.equal(encoded.length, 10);
    const payloads = encoded.map((frame, i) => packetize(frame, i, 500));
    assert.ok(
      payloads.some((p) => p.length > 2),
      'some frame spans several packets',
    );

    const { frames, counters } = assemble(vp8Depacketizer, stampRtp(payloads, WRAPPING));
    assert.equal(frames.length, 10);
    frames.forEach((frame, i) => {
      assert.deepEqual(frame.data, encoded[i], `frame ${i}`);
      assert.equal(frame.complete, true);
      assert.equal(frame.keyframe, i % 4 === 0, `keyframe ${i}`);
    });
    assert.deepEqual([counters.frames, counters.keyframes, counters.incompleteFrames, counters.lostPackets], [10, 3, 0, 0]);

    const reference = decodeFrameCrcs('ivf', ivf);
    assert.equal(reference.length, 10);
    assert.deepEqual(
      decodeFrameCrcs(
        'ivf',
        writeIvf(
          header,
          frames.map((f) => f.data),
        ),
      ),
      reference,
    );

    // The first packet of the keyframe lost: the rest can't start a frame (S is clear), whatever came before.
    const lossy = assemble(vp8Depacketizer, stampRtp(payloads, WRAPPING).slice(1));
    assert.deepEqual([lossy.frames[0]!.complete, lossy.frames[0]!.incompleteReason], [false, 'missing-start']);
    assert.ok(lossy.frames.slice(1).every((f) => f.complete));
  });
});
