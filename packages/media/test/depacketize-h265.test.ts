import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { h265Depacketizer } from '../src/depacketize/index.js';
import {
  assemble,
  chunks,
  concat,
  decodeFrameCrcs,
  encodeTestPattern,
  ffmpegEncoders,
  joinAnnexB,
  splitAnnexB,
  stampRtp,
  WRAPPING,
} from './depacketize-helpers.js';

const nalType = (nal: Uint8Array): number => (nal[0]! >> 1) & 0x3f;
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
/** A two-byte NAL header: type, LayerId 0, TemporalId 0 (nuh_temporal_id_plus1 = 1). */
const header = (type: number): number[] => [type << 1, 1];

/** Groups NAL units into access units (H.265 7.4.2.4.4): a new one at VPS/SPS/PPS/AUD/prefix SEI, or a first slice segment, after a slice. */
function accessUnits(nalUnits: readonly Uint8Array[]): Uint8Array[][] {
  const units: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let sawSlice = false;
  for (const nal of nalUnits) {
    const type = nalType(nal);
    const slice = type <= 31;
    const opensUnit = (type >= 32 && type <= 35) || type === 39 || (type >= 41 && type <= 44) || (slice && (nal[2]! & 0x80) !== 0);
    if (sawSlice && opensUnit) {
      units.push(current);
      current = [];
      sawSlice = false;
    }
    current.push(nal);
    sawSlice ||= slice;
  }
  if (current.length) units.push(current);
  return units;
}

/**
 * Test-only packetizer, RFC 7798 without DONL: non-VCL NAL units share an aggregation packet (AP, 48), a slice that
 * fits goes alone, anything larger is split into fragmentation units (FU, 49) of at most `mtu` bytes.
 */
function packetize(nalUnits: readonly Uint8Array[], mtu: number): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let ap: Uint8Array[] = [];
  const flush = (): void => {
    if (ap.length === 1) packets.push(ap[0]!);
    if (ap.length > 1) {
      // AP header: F and LayerId from the NAL units (all 0 here), TID the lowest of theirs.
      const tid = Math.min(...ap.map((n) => n[1]! & 0x07));
      packets.push(concat([Uint8Array.of(48 << 1, tid), ...ap.flatMap((n) => [u16(n.length), n])]));
    }
    ap = [];
  };
  for (const nal of nalUnits) {
    if (nal.length > mtu) {
      flush();
      const parts = chunks(nal.subarray(2), mtu - 3);
      parts.forEach((part, i) => {
        const fuHeader = (i === 0 ? 0x80 : 0) | (i === parts.length - 1 ? 0x40 : 0) | nalType(nal);
        packets.push(concat([Uint8Array.of((nal[0]! & 0x81) | (49 << 1), nal[1]!, fuHeader), part]));
      });
      continue;
    }
    const apSize = 2 + ap.reduce((n, a) => n + 2 + a.length, 0) + 2 + nal.length;
    const slice = nalType(nal) <= 31;
    if (slice || apSize > mtu) flush();
    ap.push(nal);
    if (slice) flush();
  }
  flush();
  return packets;
}

describe('H.265 depacketizer (RFC 7798), hand-built packets', () => {
  const vps = Uint8Array.of(...header(32), 0x0c, 0x01);
  const sps = Uint8Array.of(...header(33), 0x01, 0x01);
  const pps = Uint8Array.of(...header(34), 0xc1, 0x72);
  const idr = Uint8Array.of(...header(19), 0xaf, 0x08, 0x40); // IDR_W_RADL, first_slice_segment_in_pic_flag 1
  const trail = Uint8Array.of(...header(1), 0xd0, 0x02); // TRAIL_R, first slice segment
  const trailLater = Uint8Array.of(...header(1), 0x50, 0x02); // TRAIL_R, not the first slice segment

  test('single NAL unit packets become Annex B; IRAP is a keyframe', () => {
    const frame = h265Depacketizer.depacketize([vps, sps, pps, idr]);
    assert.deepEqual(frame.data, joinAnnexB([vps, sps, pps, idr]));
    assert.deepEqual([frame.keyframe, frame.complete, frame.hasVps, frame.hasSps, frame.hasPps], [true, true, true, true, true]);
    assert.deepEqual(frame.nalTypes, [32, 33, 34, 19]);
    for (const irap of [16, 17, 18, 19, 20, 21]) assert.equal(h265Depacketizer.depacketize([Uint8Array.of(...header(irap), 0x80)]).keyframe, true);
    assert.equal(h265Depacketizer.depacketize([trail]).keyframe, false);
    assert.equal(h265Depacketizer.depacketize([Uint8Array.of(...header(22), 0x80)]).keyframe, false, 'reserved IRAP 22 is not one');
  });

  test('AP unpacks its NAL units (no DONL)', () => {
    const ap = concat([Uint8Array.of(48 << 1, 1), u16(vps.length), vps, u16(sps.length), sps, u16(pps.length), pps]);
    const frame = h265Depacketizer.depacketize([ap, idr]);
    assert.deepEqual(frame.data, joinAnnexB([vps, sps, pps, idr]));
    assert.equal(frame.complete, true);
    assert.equal(h265Depacketizer.startsFrame(ap), true);
  });

  test('FU rebuilds the two-byte NAL header from the payload header and FuType', () => {
    const nal = Uint8Array.of(19 << 1, 0x02, 9, 8, 7, 6, 5); // TemporalId 1
    const fu = (flags: number, body: number[]): Uint8Array => Uint8Array.of(49 << 1, 0x02, flags | 19, ...body);
    const frame = h265Depacketizer.depacketize([fu(0x80, [9, 8]), fu(0, [7]), fu(0x40, [6, 5])]);
    assert.deepEqual(frame.data, joinAnnexB([nal]));
    assert.deepEqual([frame.keyframe, frame.complete], [true, true]);
  });

  test('FU missing its start or end, or a truncated AP, is incomplete; PACI is counted and skipped', () => {
    const noStart = h265Depacketizer.depacketize([Uint8Array.of(49 << 1, 1, 0x41, 1)]);
    assert.deepEqual([noStart.complete, noStart.data.length], [false, 0]);
    const noEnd = h265Depacketizer.depacketize([trail, Uint8Array.of(49 << 1, 1, 0x81, 1)]);
    assert.deepEqual([noEnd.complete, noEnd.data], [false, joinAnnexB([trail])]);
    const truncated = h265Depacketizer.depacketize([concat([Uint8Array.of(48 << 1, 1), u16(30), vps])]);
    assert.match(truncated.problem!, /runs past/);
    const paci = h265Depacketizer.depacketize([Uint8Array.of(50 << 1, 1, 0, 0), trail]);
    assert.deepEqual([paci.skippedUnits, paci.complete, paci.data], [1, true, joinAnnexB([trail])]);
  });

  test('startsFrame', () => {
    assert.equal(h265Depacketizer.startsFrame(vps), true);
    assert.equal(h265Depacketizer.startsFrame(trail), true);
    assert.equal(h265Depacketizer.startsFrame(trailLater), false);
    assert.equal(h265Depacketizer.startsFrame(idr), undefined, 'VPS/SPS/PPS may have been lost before it');
    assert.equal(h265Depacketizer.startsFrame(Uint8Array.of(49 << 1, 1, 0x01, 0xd0)), false, 'FU continuation');
    assert.equal(h265Depacketizer.startsFrame(Uint8Array.of(49 << 1, 1, 0x81, 0xd0)), true, 'FU start of a first TRAIL_R segment');
  });

  test('assembled across the sequence number wrap', () => {
    const { frames } = assemble(h265Depacketizer, stampRtp([[vps, sps, pps, idr], [trail], [trail, trailLater]], WRAPPING));
    assert.deepEqual(
      frames.map((f) => [f.firstSequenceNumber, f.lastSequenceNumber, f.keyframe, f.complete]),
      [
        [65530, 65533, true, true],
        [65534, 65534, false, true],
        [65535, 0, false, true],
      ],
    );
  });
});

describe('H.265 against libx265 output', () => {
  const hasEncoder = ffmpegEncoders().has('libx265');

  test(
    'AP/FU/single NAL packets from a real stream reassemble byte-identical and decode the same',
    { skip: !hasEncoder && 'this ffmpeg has no libx265' },
    () => {
      const stream = encodeTestPattern(
        ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:keyint=4:min-keyint=4:scenecut=0:slices=2:bframes=0'],
        'hevc',
      );
      const units = accessUnits(splitAnnexB(stream));
      assert.equal(units.length, 10);
      const payloads = units.map((unit) => packetize(unit, 500));
      const types = new Set(payloads.flat().map((pl) => nalType(pl)));
      assert.ok(types.has(48) && types.has(49) && [...types].some((t) => t < 48), `packet types ${[...types]}`);

      const { frames, counters } = assemble(h265Depacketizer, stampRtp(payloads, WRAPPING));
      assert.equal(frames.length, 10);
      frames.forEach((frame, i) => {
        assert.deepEqual(frame.data, joinAnnexB(units[i]!), `access unit ${i}`);
        assert.equal(frame.complete, true);
        assert.equal(frame.keyframe, i % 4 === 0, `keyframe ${i}`);
      });
      assert.deepEqual([counters.frames, counters.keyframes, counters.incompleteFrames], [10, 3, 0]);

      const reference = decodeFrameCrcs('hevc', stream);
      assert.equal(reference.length, 10);
      assert.deepEqual(decodeFrameCrcs('hevc', concat(frames.map((f) => f.data))), reference);
    },
  );
});
