import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { vp9Depacketizer } from '../src/depacketize/index.js';
import { writeSuperframe } from '../src/depacketize/vp9.js';
import { assemble, chunks, concat, decodeFrameCrcs, encodeTestPattern, ffmpegEncoders, readIvf, stampRtp, WRAPPING, writeIvf } from './depacketize-helpers.js';

interface DescriptorFields {
  start: boolean;
  end: boolean;
  interPredicted: boolean;
  pictureId?: number;
  /** Layer indices; with `flexible` unset, TL0PICIDX follows them. */
  layer?: { tid: number; sid: number; tl0PicIdx: number };
  /** Flexible mode: reference P_DIFFs (written when interPredicted). */
  flexible?: number[];
  /** Scalability structure: per-layer resolutions (Y) and a picture group of [tid, refs] (G). */
  ss?: { resolutions?: [number, number][]; group?: [number, number[]][] };
}

/** A VP9 payload descriptor (RFC 9628 4.2): I|P|L|F|B|E|V|Z and the fields those bits announce. */
function descriptor(d: DescriptorFields): Uint8Array {
  const flexible = d.flexible !== undefined;
  const bytes = [
    (d.pictureId !== undefined ? 0x80 : 0) |
      (d.interPredicted ? 0x40 : 0) |
      (d.layer ? 0x20 : 0) |
      (flexible ? 0x10 : 0) |
      (d.start ? 0x08 : 0) |
      (d.end ? 0x04 : 0) |
      (d.ss ? 0x02 : 0),
  ];
  if (d.pictureId !== undefined) bytes.push(...(d.pictureId < 128 ? [d.pictureId] : [0x80 | (d.pictureId >> 8), d.pictureId & 0xff]));
  if (d.layer) {
    bytes.push((d.layer.tid << 5) | (d.layer.sid << 1));
    if (!flexible) bytes.push(d.layer.tl0PicIdx);
  }
  if (flexible && d.interPredicted) d.flexible!.forEach((diff, i, all) => bytes.push((diff << 1) | (i < all.length - 1 ? 1 : 0)));
  if (d.ss) {
    const { resolutions, group } = d.ss;
    bytes.push((((resolutions?.length ?? 1) - 1) << 5) | (resolutions ? 0x10 : 0) | (group ? 0x08 : 0));
    for (const [w, h] of resolutions ?? []) bytes.push(w >> 8, w & 0xff, h >> 8, h & 0xff);
    if (group) {
      bytes.push(group.length);
      for (const [tid, refs] of group) bytes.push((tid << 5) | 0x10 | (refs.length << 2), ...refs);
    }
  }
  return Uint8Array.from(bytes);
}

/** VP9 uncompressed header, profile 0: frame_marker, profile, show_existing_frame, frame_type (0 = key). */
const isKeyframe = (frame: Uint8Array): boolean => (frame[0]! & 0xcc) === 0x80;

/**
 * Test-only packetizer: a frame in slices of at most `mtu` bytes, B on the first and E on the last. Descriptors
 * alternate between non-flexible mode (layer indices, TL0PICIDX, 15-bit PictureID, SS on keyframes) and flexible
 * mode (7-bit PictureID, one or two P_DIFFs).
 */
function packetize(frame: Uint8Array, index: number, mtu: number, sid = 0): Uint8Array[] {
  const interPredicted = !isKeyframe(frame);
  const slices = chunks(frame, mtu);
  const common = { interPredicted, pictureId: index % 2 ? index : 0x1000 + index };
  const fields: Omit<DescriptorFields, 'start' | 'end'> =
    index % 2 === 0
      ? {
          ...common,
          layer: { tid: 0, sid, tl0PicIdx: index },
          ...(interPredicted
            ? {}
            : {
                ss: {
                  resolutions: [[320, 240]],
                  group: [
                    [0, [1]],
                    [1, [1, 2]],
                  ],
                },
              }),
        }
      : { ...common, layer: { tid: 1, sid, tl0PicIdx: 0 }, flexible: index % 4 === 1 ? [1] : [1, 2] };
  return slices.map((slice, i) => concat([descriptor({ ...fields, start: i === 0, end: i === slices.length - 1 }), slice]));
}

describe('VP9 depacketizer (RFC 9628), hand-built packets', () => {
  const keyframe = Uint8Array.of(0x82, 0x49, 0x83, 0x42, 0x00);
  const inter = Uint8Array.of(0x86, 0x00, 0x40);

  test('B..E slices concatenate; SS is parsed and skipped, its resolutions reported', () => {
    const ss = { resolutions: [[640, 360]] as [number, number][], group: [[0, [1]] as [number, number[]]] };
    const frame = vp9Depacketizer.depacketize([
      concat([
        descriptor({ start: true, end: false, interPredicted: false, pictureId: 300, layer: { tid: 0, sid: 0, tl0PicIdx: 9 }, ss }),
        keyframe.subarray(0, 2),
      ]),
      concat([descriptor({ start: false, end: true, interPredicted: false, pictureId: 300, layer: { tid: 0, sid: 0, tl0PicIdx: 9 } }), keyframe.subarray(2)]),
    ]);
    assert.deepEqual(frame.data, keyframe);
    assert.deepEqual([frame.keyframe, frame.complete, frame.pictureId, frame.spatialLayers], [true, true, 300, 1]);
    assert.deepEqual(frame.resolutions, [{ width: 640, height: 360 }]);
  });

  test('flexible mode reference indices are skipped; P=1 is not a keyframe', () => {
    const frame = vp9Depacketizer.depacketize([
      concat([descriptor({ start: true, end: true, interPredicted: true, pictureId: 7, flexible: [1, 2, 3] }), inter]),
    ]);
    assert.deepEqual([frame.data, frame.keyframe, frame.complete], [inter, false, true]);
    const tooMany = vp9Depacketizer.depacketize([concat([descriptor({ start: true, end: true, interPredicted: true, flexible: [1, 2, 3, 4] }), inter])]);
    assert.equal(tooMany.complete, false, 'at most three P_DIFFs');
  });

  test('missing B or E makes the frame incomplete', () => {
    const noStart = vp9Depacketizer.depacketize([concat([descriptor({ start: false, end: true, interPredicted: true }), inter])]);
    assert.deepEqual([noStart.complete, noStart.data.length], [false, 0]);
    const noEnd = vp9Depacketizer.depacketize([concat([descriptor({ start: true, end: false, interPredicted: true }), inter])]);
    assert.equal(noEnd.complete, false);
    assert.match(noEnd.problem!, /E bit/);
  });

  test('startsFrame: B on spatial layer 0; B on a higher layer cannot tell; no B does not', () => {
    assert.equal(vp9Depacketizer.startsFrame(concat([descriptor({ start: true, end: false, interPredicted: true }), inter])), true);
    assert.equal(
      vp9Depacketizer.startsFrame(concat([descriptor({ start: true, end: false, interPredicted: true, layer: { tid: 0, sid: 1, tl0PicIdx: 0 } }), inter])),
      undefined,
    );
    assert.equal(vp9Depacketizer.startsFrame(concat([descriptor({ start: false, end: true, interPredicted: true }), inter])), false);
  });

  test('two spatial layers in one picture become a superframe with an index', () => {
    const layer = (sid: number, data: Uint8Array, interPredicted: boolean): Uint8Array =>
      concat([descriptor({ start: true, end: true, interPredicted, pictureId: 1, layer: { tid: 0, sid, tl0PicIdx: 0 } }), data]);
    const frame = vp9Depacketizer.depacketize([layer(0, keyframe, false), layer(1, inter, false)]);
    // Marker 0b110_00_001: 1 byte per size, 2 frames.
    assert.deepEqual(frame.data, concat([keyframe, inter, Uint8Array.of(0xc1, 5, 3, 0xc1)]));
    assert.deepEqual([frame.spatialLayers, frame.keyframe, frame.complete], [2, true, true]);
    const big = writeSuperframe([new Uint8Array(300), new Uint8Array(2)]);
    assert.deepEqual(big.subarray(302), Uint8Array.of(0xc9, 0x2c, 0x01, 0x02, 0x00, 0xc9));
  });
});

describe('VP9 against libvpx-vp9 output', () => {
  const hasEncoder = ffmpegEncoders().has('libvpx-vp9');
  const encode = (): Uint8Array =>
    encodeTestPattern(['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '4', '-auto-alt-ref', '0', '-lag-in-frames', '0'], 'ivf');

  test('a real stream split at 500 bytes reassembles byte-identical and decodes the same', { skip: !hasEncoder && 'this ffmpeg has no libvpx-vp9' }, () => {
    const ivf = encode();
    const { header, frames: encoded } = readIvf(ivf);
    assert.equal(encoded.length, 10);
    const payloads = encoded.map((frame, i) => packetize(frame, i, 500));
    assert.ok(
      payloads.some((p) => p.length > 2),
      'some frame spans several packets',
    );

    const { frames, counters } = assemble(vp9Depacketizer, stampRtp(payloads, WRAPPING));
    assert.equal(frames.length, 10);
    frames.forEach((frame, i) => {
      assert.deepEqual(frame.data, encoded[i], `frame ${i}`);
      assert.equal(frame.complete, true);
      assert.equal(frame.keyframe, i % 4 === 0, `keyframe ${i}`);
      if (i % 4 === 0) assert.deepEqual(frame.resolutions, [{ width: 320, height: 240 }]);
    });
    assert.deepEqual([counters.frames, counters.keyframes, counters.incompleteFrames], [10, 3, 0]);

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
  });

  test('a superframe of two layer frames is decoded by libavcodec as both frames', { skip: !hasEncoder && 'this ffmpeg has no libvpx-vp9' }, () => {
    // Not real spatial layers (both frames are 320x240), but the same container problem: frames 1 and 2 sent as
    // spatial layers 0 and 1 of one picture must come out as a superframe that libavcodec splits and decodes in order.
    const ivf = encode();
    const { header, frames: encoded } = readIvf(ivf);
    const pictures = [[encoded[0]!], [encoded[1]!, encoded[2]!], ...encoded.slice(3).map((f) => [f])];
    const payloads = pictures.map((layers, p) => layers.flatMap((frame, sid) => packetize(frame, p, 500, sid)));
    const { frames } = assemble(vp9Depacketizer, stampRtp(payloads, WRAPPING));
    assert.deepEqual(
      frames.map((f) => f.spatialLayers),
      [1, 2, 1, 1, 1, 1, 1, 1, 1],
    );
    assert.ok(frames.every((f) => f.complete));
    assert.deepEqual(
      decodeFrameCrcs(
        'ivf',
        writeIvf(
          header,
          frames.map((f) => f.data),
        ),
      ),
      decodeFrameCrcs('ivf', ivf),
    );
  });
});
