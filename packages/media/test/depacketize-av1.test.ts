import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { av1Depacketizer } from '../src/depacketize/index.js';
import { readLeb128, writeLeb128 } from '../src/depacketize/leb128.js';
import { assemble, concat, decodeFrameCrcs, encodeTestPattern, firstEncoder, stampRtp, WRAPPING } from './depacketize-helpers.js';

const OBU_SEQUENCE_HEADER = 1;
const OBU_TEMPORAL_DELIMITER = 2;
const OBU_FRAME = 6;
const obuType = (header: number): number => (header >> 3) & 0x0f;

function leb128(value: number): Uint8Array {
  const out = new Uint8Array(8);
  return out.slice(0, writeLeb128(value, out, 0));
}

/** An OBU as RTP carries it: header without obu_has_size_field (and the extension byte when given), then the payload. */
const rtpObu = (type: number, payload: number[], extension?: number): Uint8Array =>
  Uint8Array.of((type << 3) | (extension === undefined ? 0 : 0x04), ...(extension === undefined ? [] : [extension]), ...payload);
/** The same OBU in the low-overhead format: obu_has_size_field set, LEB128 size after the header. */
const sizedObu = (type: number, payload: number[], extension?: number): Uint8Array =>
  concat([
    Uint8Array.of((type << 3) | 0x02 | (extension === undefined ? 0 : 0x04), ...(extension === undefined ? [] : [extension])),
    leb128(payload.length),
    Uint8Array.from(payload),
  ]);
const TD = Uint8Array.of(0x12, 0x00);

/** An RTP payload: aggregation header Z|Y|W|N, then the elements, each with a LEB128 length except the W-th. */
function rtpPayload(flags: { z?: boolean; y?: boolean; n?: boolean; w?: number }, elements: readonly Uint8Array[]): Uint8Array {
  const w = flags.w ?? 0;
  const header = (flags.z ? 0x80 : 0) | (flags.y ? 0x40 : 0) | (w << 4) | (flags.n ? 0x08 : 0);
  return concat([Uint8Array.of(header), ...elements.flatMap((e, i) => (w !== 0 && i === w - 1 ? [e] : [leb128(e.length), e]))]);
}

/** The OBUs of a low-overhead bitstream, each as {header (1 or 2 bytes), payload}, in order. */
function readObus(data: Uint8Array): { type: number; header: Uint8Array; payload: Uint8Array }[] {
  const obus = [];
  for (let offset = 0; offset < data.length;) {
    const headerLength = data[offset]! & 0x04 ? 2 : 1;
    const size = readLeb128(data, offset + headerLength)!;
    obus.push({
      type: obuType(data[offset]!),
      header: data.subarray(offset, offset + headerLength),
      payload: data.subarray(size.next, size.next + size.value),
    });
    offset = size.next + size.value;
  }
  return obus;
}

/** Temporal units of a low-overhead bitstream: each from one temporal delimiter to the next. */
function temporalUnits(data: Uint8Array): Uint8Array[] {
  const units: Uint8Array[] = [];
  let start = 0;
  let offset = 0;
  for (const obu of readObus(data)) {
    const end = obu.payload.byteOffset - data.byteOffset + obu.payload.length;
    if (obu.type === OBU_TEMPORAL_DELIMITER && offset > start) {
      units.push(data.subarray(start, offset));
      start = offset;
    }
    offset = end;
  }
  units.push(data.subarray(start));
  return units;
}

/**
 * Test-only packetizer (AV1 RTP spec 4): drops the temporal delimiter, clears obu_has_size_field, and fills packets
 * of at most `mtu` bytes with OBU elements, splitting an OBU across packets (Y, then Z) where it doesn't fit. Every
 * other packet uses W (the last element without a length) when it has 1 to 3 elements. N on a temporal unit that
 * opens with a sequence header.
 */
function packetize(unit: Uint8Array, mtu: number, packetIndex: { n: number }): Uint8Array[] {
  const elements = readObus(unit)
    .filter((o) => o.type !== OBU_TEMPORAL_DELIMITER)
    .map((o) => concat([Uint8Array.of(o.header[0]! & ~0x02), o.header.subarray(1), o.payload]));
  const newSequence = obuType(elements[0]![0]!) === OBU_SEQUENCE_HEADER;
  const packets: { z: boolean; y: boolean; elements: Uint8Array[] }[] = [];
  let current = { z: false, y: false, elements: [] as Uint8Array[] };
  let used = 1;
  for (const element of elements) {
    let rest = element;
    while (rest.length > 0) {
      const room = mtu - used - 2; // 2: a length field up to 16383 bytes
      if (room <= 0) {
        packets.push(current);
        current = { z: false, y: false, elements: [] };
        used = 1;
        continue;
      }
      const piece = rest.subarray(0, room);
      current.elements.push(piece);
      used += 2 + piece.length;
      rest = rest.subarray(piece.length);
      if (rest.length > 0) {
        current.y = true;
        packets.push(current);
        current = { z: true, y: false, elements: [] };
        used = 1;
      }
    }
  }
  if (current.elements.length) packets.push(current);
  return packets.map((p, i) => {
    const useW = packetIndex.n++ % 2 === 1 && p.elements.length <= 3;
    return rtpPayload({ z: p.z, y: p.y, n: newSequence && i === 0, w: useW ? p.elements.length : 0 }, p.elements);
  });
}

describe('AV1 depacketizer (AV1 RTP payload format), hand-built packets', () => {
  const seq = [0x00, 0x00, 0x00, 0x04];
  const frame = [0x10, 0x20, 0x30, 0x40, 0x50];

  test('elements with lengths (W=0) and without the last length (W=2) give the same temporal unit', () => {
    const expected = concat([TD, sizedObu(OBU_SEQUENCE_HEADER, seq), sizedObu(OBU_FRAME, frame)]);
    for (const w of [0, 2]) {
      const tu = av1Depacketizer.depacketize([rtpPayload({ n: true, w }, [rtpObu(OBU_SEQUENCE_HEADER, seq), rtpObu(OBU_FRAME, frame)])]);
      assert.deepEqual(tu.data, expected, `W=${w}`);
      assert.deepEqual([tu.keyframe, tu.complete, tu.newCodedVideoSequence, tu.hasSequenceHeader, tu.obuTypes], [true, true, true, true, [1, 6]]);
    }
  });

  test('an OBU fragmented over three packets (Y, Z+Y, Z) is rejoined; the extension header byte is kept', () => {
    const obu = rtpObu(OBU_FRAME, frame, 0x28); // temporal_id 1, spatial_id 1
    const tu = av1Depacketizer.depacketize([
      rtpPayload({ y: true, w: 1 }, [obu.subarray(0, 3)]),
      rtpPayload({ z: true, y: true, w: 1 }, [obu.subarray(3, 5)]),
      rtpPayload({ z: true, w: 1 }, [obu.subarray(5)]),
    ]);
    assert.deepEqual(tu.data, concat([TD, sizedObu(OBU_FRAME, frame, 0x28)]));
    assert.deepEqual([tu.keyframe, tu.complete], [false, true]);
  });

  test('a fragment without its start, or without its end, makes the temporal unit incomplete', () => {
    const obu = rtpObu(OBU_FRAME, frame);
    const noStart = av1Depacketizer.depacketize([rtpPayload({ z: true, w: 1 }, [obu.subarray(3)])]);
    assert.equal(noStart.complete, false);
    assert.match(noStart.problem!, /without the packet that starts it/);
    const noEnd = av1Depacketizer.depacketize([rtpPayload({ y: true, w: 1 }, [obu.subarray(0, 3)])]);
    assert.match(noEnd.problem!, /without its last packet/);
    const notContinued = av1Depacketizer.depacketize([rtpPayload({ y: true }, [obu.subarray(0, 3)]), rtpPayload({}, [obu])]);
    assert.match(notContinued.problem!, /not continued/);
    assert.deepEqual(notContinued.data, concat([TD, sizedObu(OBU_FRAME, frame)]), 'the whole OBU after it is kept');
  });

  test('temporal delimiters in RTP are dropped, tile lists skipped, OBUs that carry their own size rewritten', () => {
    const withSize = concat([Uint8Array.of((OBU_FRAME << 3) | 0x02), leb128(frame.length), Uint8Array.from(frame)]);
    const tu = av1Depacketizer.depacketize([rtpPayload({}, [TD, rtpObu(8, [1, 2]), withSize])]);
    assert.deepEqual(tu.data, concat([TD, sizedObu(OBU_FRAME, frame)]));
    assert.deepEqual([tu.skippedUnits, tu.complete], [1, true]);
  });

  test('element lengths past the payload are malformed', () => {
    const tu = av1Depacketizer.depacketize([concat([Uint8Array.of(0x00), leb128(50), Uint8Array.of(OBU_FRAME << 3, 1)])]);
    assert.equal(tu.complete, false);
    assert.match(tu.problem!, /runs past/);
  });

  test('startsFrame: Z says no, N or a leading sequence header says yes, a frame OBU cannot tell', () => {
    assert.equal(av1Depacketizer.startsFrame(rtpPayload({ z: true }, [Uint8Array.of(1)])), false);
    assert.equal(av1Depacketizer.startsFrame(rtpPayload({ n: true }, [rtpObu(OBU_FRAME, frame)])), true);
    assert.equal(av1Depacketizer.startsFrame(rtpPayload({ w: 1 }, [rtpObu(OBU_SEQUENCE_HEADER, seq)])), true);
    assert.equal(av1Depacketizer.startsFrame(rtpPayload({}, [rtpObu(OBU_FRAME, frame)])), undefined);
  });

  test('LEB128 lengths of two and more bytes', () => {
    const big = Array.from({ length: 300 }, (_, i) => i & 0xff);
    const tu = av1Depacketizer.depacketize([rtpPayload({}, [rtpObu(OBU_FRAME, big)])]);
    assert.deepEqual(tu.data, concat([TD, sizedObu(OBU_FRAME, big)]));
    assert.deepEqual(leb128(300), Uint8Array.of(0xac, 0x02));
    assert.deepEqual(readLeb128(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), 0), { value: 2 ** 32 - 1, next: 5 });
  });
});

describe('AV1 against libaom-av1 (or SVT-AV1) output', () => {
  const encoder = firstEncoder('libaom-av1', 'libsvtav1');
  const args =
    encoder === 'libaom-av1'
      ? ['-c:v', 'libaom-av1', '-usage', 'realtime', '-cpu-used', '8', '-g', '4', '-lag-in-frames', '0']
      : ['-c:v', 'libsvtav1', '-preset', '12', '-g', '4', '-svtav1-params', 'pred-struct=1'];

  test(
    'a real stream in 500-byte packets reassembles byte-identical and decodes the same',
    { skip: !encoder && 'this ffmpeg has neither libaom-av1 nor libsvtav1' },
    () => {
      const stream = encodeTestPattern(args, 'obu');
      const units = temporalUnits(stream);
      assert.equal(units.length, 10);
      const counter = { n: 0 };
      const payloads = units.map((unit) => packetize(unit, 500, counter));
      const headers = payloads.flat().map((p) => p[0]!);
      for (const [bit, name] of [
        [0x80, 'Z'],
        [0x40, 'Y'],
        [0x30, 'W'],
        [0x08, 'N'],
      ] as const)
        assert.ok(
          headers.some((h) => h & bit),
          `some packet has ${name}`,
        );
      assert.ok(
        headers.some((h) => (h & 0x30) === 0),
        'some packet has W=0',
      );

      const { frames, counters } = assemble(av1Depacketizer, stampRtp(payloads, WRAPPING));
      assert.equal(frames.length, 10);
      frames.forEach((frame, i) => {
        assert.deepEqual(frame.data, units[i], `temporal unit ${i}`);
        assert.equal(frame.complete, true);
        assert.equal(frame.keyframe, i % 4 === 0, `keyframe ${i}`);
      });
      assert.deepEqual([counters.frames, counters.keyframes, counters.incompleteFrames], [10, 3, 0]);

      const reference = decodeFrameCrcs('obu', stream);
      assert.equal(reference.length, 10);
      assert.deepEqual(decodeFrameCrcs('obu', concat(frames.map((f) => f.data))), reference);
    },
  );
});
