import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { h264Depacketizer } from '../src/depacketize/index.js';
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

const nalType = (nal: Uint8Array): number => nal[0]! & 0x1f;
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);

/** Groups an Annex B stream's NAL units into access units (H.264 7.4.1.2.3): a new one at AUD/SEI/SPS/PPS or first_mb_in_slice 0 after a slice. */
function accessUnits(nalUnits: readonly Uint8Array[]): Uint8Array[][] {
  const units: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let sawSlice = false;
  for (const nal of nalUnits) {
    const type = nalType(nal);
    const slice = type === 1 || type === 5;
    const opensUnit = (type >= 6 && type <= 9) || (slice && (nal[1]! & 0x80) !== 0);
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
 * Test-only packetizer, RFC 6184 packetization-mode 1: small non-VCL NAL units share a STAP-A, a slice that fits goes
 * alone as a single NAL unit packet, anything larger is split into FU-A fragments of at most `mtu` bytes.
 */
function packetize(nalUnits: readonly Uint8Array[], mtu: number): Uint8Array[] {
  const packets: Uint8Array[] = [];
  let stap: Uint8Array[] = [];
  const flush = (): void => {
    if (stap.length === 1) packets.push(stap[0]!);
    if (stap.length > 1) {
      const nri = Math.max(...stap.map((n) => n[0]! & 0x60));
      packets.push(concat([Uint8Array.of(nri | 24), ...stap.flatMap((n) => [u16(n.length), n])]));
    }
    stap = [];
  };
  for (const nal of nalUnits) {
    if (nal.length > mtu) {
      flush();
      const parts = chunks(nal.subarray(1), mtu - 2);
      parts.forEach((part, i) => {
        const fuHeader = (i === 0 ? 0x80 : 0) | (i === parts.length - 1 ? 0x40 : 0) | nalType(nal);
        packets.push(concat([Uint8Array.of((nal[0]! & 0xe0) | 28, fuHeader), part]));
      });
      continue;
    }
    // Slices go alone; parameter sets and SEI share a STAP-A while it fits.
    const stapSize = 1 + stap.reduce((n, s) => n + 2 + s.length, 0) + 2 + nal.length;
    const slice = nalType(nal) <= 5;
    if (slice || stapSize > mtu) flush();
    stap.push(nal);
    if (slice) flush();
  }
  flush();
  return packets;
}

describe('H.264 depacketizer (RFC 6184), hand-built packets', () => {
  const sps = Uint8Array.of(0x67, 0x42, 0xc0, 0x1e, 0xd9);
  const pps = Uint8Array.of(0x68, 0xce, 0x3c, 0x80);
  const idr = Uint8Array.of(0x65, 0x88, 0x84, 0x00, 0x33, 0xff); // first_mb_in_slice 0
  const idrSecondSlice = Uint8Array.of(0x65, 0x41, 0x9a, 0x02); // first_mb_in_slice != 0
  const p = Uint8Array.of(0x41, 0x9a, 0x22, 0x11);

  test('single NAL unit packets become Annex B with 4-byte start codes', () => {
    const frame = h264Depacketizer.depacketize([sps, pps, idr]);
    assert.deepEqual(frame.data, joinAnnexB([sps, pps, idr]));
    assert.equal(frame.keyframe, true);
    assert.equal(frame.complete, true);
    assert.deepEqual([frame.nalTypes, frame.hasSps, frame.hasPps], [[7, 8, 5], true, true]);
  });

  test('STAP-A unpacks every aggregated NAL unit', () => {
    const stap = concat([Uint8Array.of(0x78), u16(sps.length), sps, u16(pps.length), pps]);
    const frame = h264Depacketizer.depacketize([stap, idr]);
    assert.deepEqual(frame.data, joinAnnexB([sps, pps, idr]));
    assert.equal(frame.complete, true);
    assert.equal(h264Depacketizer.startsFrame(stap), true);
  });

  test('FU-A reassembles the NAL header from the FU indicator (F, NRI) and FU header (type)', () => {
    const nal = Uint8Array.of(0x65, 1, 2, 3, 4, 5, 6, 7);
    const fu = (flags: number, body: number[]): Uint8Array => Uint8Array.of(0x60 | 28, flags | 5, ...body);
    const frame = h264Depacketizer.depacketize([fu(0x80, [1, 2, 3]), fu(0, [4, 5]), fu(0x40, [6, 7])]);
    assert.deepEqual(frame.data, joinAnnexB([nal]));
    assert.deepEqual([frame.keyframe, frame.complete], [true, true]);
  });

  test('FU-A missing its start or its end makes the frame incomplete and drops the partial NAL unit', () => {
    const noStart = h264Depacketizer.depacketize([Uint8Array.of(0x7c, 0x05, 1), Uint8Array.of(0x7c, 0x45, 2)]);
    assert.deepEqual([noStart.complete, noStart.data.length], [false, 0]);
    assert.match(noStart.problem!, /without its start/);
    const noEnd = h264Depacketizer.depacketize([p, Uint8Array.of(0x7c, 0x85, 1)]);
    assert.equal(noEnd.complete, false);
    assert.deepEqual(noEnd.data, joinAnnexB([p]));
    assert.match(noEnd.problem!, /without its end/);
    const interrupted = h264Depacketizer.depacketize([Uint8Array.of(0x7c, 0x85, 1), p]);
    assert.match(interrupted.problem!, /not ended before the next packet/);
  });

  test('STAP-A with a size past the payload is malformed', () => {
    const frame = h264Depacketizer.depacketize([concat([Uint8Array.of(0x78), u16(40), sps])]);
    assert.equal(frame.complete, false);
    assert.match(frame.problem!, /runs past/);
  });

  test('STAP-B, MTAP16, MTAP24 and FU-B are counted and skipped', () => {
    const frame = h264Depacketizer.depacketize([Uint8Array.of(25, 0, 0), Uint8Array.of(26, 0), Uint8Array.of(27, 0), Uint8Array.of(29, 0x85, 0, 0), p]);
    assert.deepEqual([frame.skippedUnits, frame.complete, frame.keyframe], [4, true, false]);
    assert.deepEqual(frame.data, joinAnnexB([p]));
  });

  test('startsFrame: SPS and a first non-IDR slice do; later slices and FU-A continuations do not; a bare IDR slice cannot tell', () => {
    assert.equal(h264Depacketizer.startsFrame(sps), true);
    assert.equal(h264Depacketizer.startsFrame(p), true);
    assert.equal(h264Depacketizer.startsFrame(Uint8Array.of(0x5c, 0x81, 0x9a)), true, 'FU-A start of a first non-IDR slice');
    assert.equal(h264Depacketizer.startsFrame(idr), undefined, 'SPS/PPS may have been lost before it');
    assert.equal(h264Depacketizer.startsFrame(idrSecondSlice), false);
    assert.equal(h264Depacketizer.startsFrame(Uint8Array.of(0x7c, 0x85, 0x41)), false);
    assert.equal(h264Depacketizer.startsFrame(Uint8Array.of(0x7c, 0x05, 0x88)), false);
    assert.equal(h264Depacketizer.startsFrame(pps), undefined);
    assert.equal(h264Depacketizer.startsFrame(Uint8Array.of(29, 0x85)), undefined);
  });

  test('frames across a sequence number and timestamp wrap come out whole', () => {
    const packets = stampRtp([[sps, pps, idr], [p], [p, p]], WRAPPING);
    assert.deepEqual(
      packets.map((x) => x.sequenceNumber),
      [65530, 65531, 65532, 65533, 65534, 65535],
    );
    const more = stampRtp([[p], [p]], { ...WRAPPING, firstSequenceNumber: 65535, firstTimestamp: 2 ** 32 - 1000 });
    const { frames, counters } = assemble(h264Depacketizer, more);
    assert.deepEqual(
      frames.map((f) => [f.timestamp, f.firstSequenceNumber, f.complete]),
      [
        [2 ** 32 - 1000, 65535, true],
        [2000, 0, true],
      ],
    );
    assert.equal(counters.lostPackets, 0);
  });
});

describe('H.264 against libx264 output', () => {
  const hasEncoder = ffmpegEncoders().has('libx264');

  test(
    'FU-A/STAP-A/single NAL packets from a real stream reassemble byte-identical and decode the same',
    { skip: !hasEncoder && 'this ffmpeg has no libx264' },
    () => {
      // Two slices per picture and an IDR every 4 frames: multi-slice access units, SEI, SPS/PPS repeated.
      const stream = encodeTestPattern(['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '4', '-slices', '2'], 'h264');
      const units = accessUnits(splitAnnexB(stream));
      assert.equal(units.length, 10);
      const payloads = units.map((unit) => packetize(unit, 500));
      const types = new Set(payloads.flat().map((pl) => nalType(pl)));
      assert.ok(types.has(28) && types.has(24) && [...types].some((t) => t < 24), `packet types ${[...types]}`);

      const { frames, counters } = assemble(h264Depacketizer, stampRtp(payloads, WRAPPING));
      assert.equal(frames.length, 10);
      frames.forEach((frame, i) => {
        assert.deepEqual(frame.data, joinAnnexB(units[i]!), `access unit ${i}`);
        assert.equal(frame.complete, true);
        assert.equal(frame.keyframe, i % 4 === 0, `keyframe ${i}`);
        assert.equal(frame.hasSps, i % 4 === 0);
      });
      assert.deepEqual(counters, {
        packets: payloads.flat().length,
        frames: 10,
        keyframes: 3,
        incompleteFrames: 0,
        discardedPackets: 0,
        lostPackets: 0,
        emptyPackets: 0,
        skippedUnits: 0,
      });

      const reference = decodeFrameCrcs('h264', stream);
      assert.equal(reference.length, 10);
      assert.deepEqual(decodeFrameCrcs('h264', concat(frames.map((f) => f.data))), reference);
    },
  );

  test('lost packets flag exactly the frames they belong to', { skip: !hasEncoder && 'this ffmpeg has no libx264' }, () => {
    // IDR at frames 0 and 3; frames 1, 2, 4, 5 are small P frames (one packet each at this size).
    const stream = encodeTestPattern(['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '3'], 'h264', 6);
    const payloads = accessUnits(splitAnnexB(stream)).map((unit) => packetize(unit, 500));
    assert.deepEqual(
      payloads.map((f) => f.length > 1),
      [true, false, false, true, false, false],
    );
    const packets = stampRtp(payloads, WRAPPING);
    const first = (frame: number): number => payloads.slice(0, frame).reduce((n, f) => n + f.length, 0);
    const run = (lose: number[]) => {
      const { frames, counters } = assemble(
        h264Depacketizer,
        packets.filter((_, i) => !lose.includes(i)),
      );
      return { summary: frames.map((f) => [f.complete, f.incompleteReason ?? null, f.lostBefore]), counters };
    };
    const ok = [true, null, 0];

    // Middle of the first IDR frame lost.
    assert.deepEqual(run([first(0) + 1]).summary, [[false, 'lost-packets', 0], ok, ok, ok, ok, ok]);
    // The marker packet of the first IDR frame lost: it has no end; the P frame after it starts with first_mb 0.
    assert.deepEqual(run([first(1) - 1]).summary, [[false, 'missing-end', 0], [true, null, 1], ok, ok, ok, ok]);
    // The very first packet (STAP-A with SPS and PPS) lost: nothing says the rest starts the access unit.
    assert.deepEqual(run([0]).summary[0], [false, 'missing-start', 0]);
    // The P frame just before the second IDR lost: the IDR's first packet carries SPS, so the keyframe is whole.
    const lostP = run([first(2)]);
    assert.deepEqual(lostP.summary, [ok, ok, [true, null, 1], ok, ok]);
    assert.equal(lostP.counters.lostPackets, 1);
    // The second IDR's STAP-A (SPS, PPS) lost: its IDR slice can't prove it is the start.
    assert.deepEqual(run([first(3)]).summary[3], [false, 'missing-start', 1]);
  });
});
