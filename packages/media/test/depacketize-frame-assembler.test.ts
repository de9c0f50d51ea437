import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DepacketizedFrame, type Depacketizer, FrameAssembler, h264Depacketizer, type RtpPayload } from '../src/depacketize/index.js';
import { concat } from './depacketize-helpers.js';

/**
 * A depacketizer whose payloads say everything: byte 0 is 1 (starts a frame), 0 (doesn't) or 2 (can't tell); byte 1
 * is 1 for a keyframe, 9 for a malformed payload, 7 for one unsupported unit. The frame is the payloads concatenated.
 */
const fake: Depacketizer = {
  codec: 'VP8',
  packetIsFrame: false,
  startsFrame: (p) => (p[0] === 1 ? true : p[0] === 0 ? false : undefined),
  depacketize: (payloads): DepacketizedFrame => {
    const malformed = payloads.some((p) => p[1] === 9);
    return {
      data: concat(payloads),
      keyframe: payloads[0]?.[1] === 1,
      complete: !malformed,
      skippedUnits: payloads.filter((p) => p[1] === 7).length,
      ...(malformed ? { problem: 'bad' } : {}),
    };
  },
};
const START = Uint8Array.of(1, 0);
const KEY = Uint8Array.of(1, 1);
const MIDDLE = Uint8Array.of(0, 0);
const UNKNOWN = Uint8Array.of(2, 0);

const packet = (sequenceNumber: number, timestamp: number, payload: Uint8Array, marker = false): RtpPayload => ({ sequenceNumber, timestamp, payload, marker });
const run = (packets: RtpPayload[], assembler = new FrameAssembler(fake)) => ({ frames: packets.flatMap((p) => [...assembler.push(p)]), assembler });
const brief = (f: { timestamp: number; complete: boolean; incompleteReason?: string; packetCount: number; lostBefore: number }) => [
  f.timestamp,
  f.complete,
  f.incompleteReason ?? null,
  f.packetCount,
  f.lostBefore,
];

describe('FrameAssembler', () => {
  test('the marker ends a frame; timestamp, sequence range and packet count come with it', () => {
    const { frames, assembler } = run([packet(10, 100, KEY), packet(11, 100, MIDDLE), packet(12, 100, MIDDLE, true), packet(13, 200, START, true)]);
    assert.deepEqual(frames.map(brief), [
      [100, true, null, 3, 0],
      [200, true, null, 1, 0],
    ]);
    assert.deepEqual([frames[0]!.firstSequenceNumber, frames[0]!.lastSequenceNumber, frames[0]!.keyframe], [10, 12, true]);
    assert.deepEqual(frames[0]!.data, concat([KEY, MIDDLE, MIDDLE]));
    assert.deepEqual(assembler.counters, {
      packets: 4,
      frames: 2,
      keyframes: 1,
      incompleteFrames: 0,
      discardedPackets: 0,
      lostPackets: 0,
      emptyPackets: 0,
      skippedUnits: 0,
    });
  });

  test('without a marker, a new timestamp ends the frame: whole if nothing was lost, missing its end otherwise', () => {
    assert.deepEqual(run([packet(1, 100, START), packet(2, 100, MIDDLE), packet(3, 200, START, true)]).frames.map(brief), [
      [100, true, null, 2, 0],
      [200, true, null, 1, 0],
    ]);
    assert.deepEqual(run([packet(1, 100, START), packet(2, 100, MIDDLE), packet(4, 200, START, true)]).frames.map(brief), [
      [100, false, 'missing-end', 2, 0],
      [200, true, null, 1, 1],
    ]);
  });

  test('a sequence gap inside a frame makes it incomplete and is counted', () => {
    const { frames, assembler } = run([packet(1, 100, START), packet(3, 100, MIDDLE, true), packet(4, 200, START, true)]);
    assert.deepEqual(frames.map(brief), [
      [100, false, 'lost-packets', 2, 0],
      [200, true, null, 1, 0],
    ]);
    assert.deepEqual([assembler.counters.lostPackets, assembler.counters.incompleteFrames], [1, 1]);
  });

  test("a frame's start: announced by the payload, or right after a packet that arrived; else missing", () => {
    // First packet of the stream: only a payload that says so starts a frame.
    assert.deepEqual(run([packet(1, 100, UNKNOWN, true)]).frames.map(brief), [[100, false, 'missing-start', 1, 0]]);
    assert.deepEqual(run([packet(1, 100, START, true)]).frames.map(brief), [[100, true, null, 1, 0]]);
    // After a frame that arrived whole, "can't tell" is fine; after a gap it is not; "doesn't start" never is.
    const frames = run([
      packet(1, 100, START, true),
      packet(2, 200, UNKNOWN, true),
      packet(4, 300, UNKNOWN, true),
      packet(5, 400, MIDDLE, true),
      packet(7, 500, START, true),
    ]).frames;
    assert.deepEqual(frames.map(brief), [
      [100, true, null, 1, 0],
      [200, true, null, 1, 0],
      [300, false, 'missing-start', 1, 1],
      [400, false, 'missing-start', 1, 0],
      [500, true, null, 1, 1],
    ]);
  });

  test('sequence numbers and timestamps wrap; duplicates and older packets are discarded', () => {
    const { frames, assembler } = run([
      packet(65534, 2 ** 32 - 3000, START),
      packet(65535, 2 ** 32 - 3000, MIDDLE),
      packet(65535, 2 ** 32 - 3000, MIDDLE), // duplicate
      packet(0, 2 ** 32 - 3000, MIDDLE, true),
      packet(65535, 2 ** 32 - 3000, MIDDLE), // older, across the wrap
      packet(1, 0, UNKNOWN, true),
    ]);
    assert.deepEqual(frames.map(brief), [
      [2 ** 32 - 3000, true, null, 3, 0],
      [0, true, null, 1, 0],
    ]);
    assert.deepEqual([assembler.counters.discardedPackets, assembler.counters.lostPackets], [2, 0]);
  });

  test('empty payloads (padding) are counted, join no frame, and keep the sequence continuous', () => {
    const { frames, assembler } = run([
      packet(1, 100, START, true),
      packet(2, 100, new Uint8Array(0)),
      packet(3, 100, new Uint8Array(0)),
      packet(4, 200, UNKNOWN, true),
    ]);
    assert.deepEqual(frames.map(brief), [
      [100, true, null, 1, 0],
      [200, true, null, 1, 0],
    ]);
    assert.equal(assembler.counters.emptyPackets, 2);
  });

  test('a packet after the marker with the same timestamp opens a new frame, judged on its own', () => {
    const frames = run([packet(1, 100, START, true), packet(2, 100, MIDDLE, true)]).frames;
    assert.deepEqual(frames.map(brief), [
      [100, true, null, 1, 0],
      [100, false, 'missing-start', 1, 0],
    ]);
  });

  test('payloads that do not fit together are malformed; skipped units are summed', () => {
    const { frames, assembler } = run([
      packet(1, 100, Uint8Array.of(1, 9), true),
      packet(2, 200, Uint8Array.of(1, 7)),
      packet(3, 200, Uint8Array.of(0, 7), true),
    ]);
    assert.deepEqual(frames.map(brief), [
      [100, false, 'malformed', 1, 0],
      [200, true, null, 2, 0],
    ]);
    assert.equal(frames[0]!.problem, 'bad');
    assert.equal(assembler.counters.skippedUnits, 2);
  });

  test('a frame over the packet limit is cut off; the rest of its packets are discarded', () => {
    const assembler = new FrameAssembler(fake, { maxPacketsPerFrame: 3 });
    const { frames } = run(
      [
        packet(1, 100, START),
        packet(2, 100, MIDDLE),
        packet(3, 100, MIDDLE),
        packet(4, 100, MIDDLE),
        packet(5, 100, MIDDLE, true),
        packet(6, 200, UNKNOWN, true),
      ],
      assembler,
    );
    assert.deepEqual(frames.map(brief), [
      [100, false, 'too-many-packets', 3, 0],
      [200, true, null, 1, 0],
    ]);
    assert.equal(assembler.counters.discardedPackets, 2);
  });

  test('flush emits an open frame as missing its end; reset forgets the sequence position', () => {
    const assembler = new FrameAssembler(fake);
    assembler.push(packet(1, 100, START));
    assert.deepEqual(brief(assembler.flush()!), [100, false, 'missing-end', 1, 0]);
    assert.equal(assembler.flush(), undefined);
    assembler.push(packet(2, 200, START, true));
    assembler.reset();
    // After a reset, sequence number 2 again is a new stream, not a duplicate.
    assert.deepEqual(assembler.push(packet(2, 300, START, true)).map(brief), [[300, true, null, 1, 0]]);
  });

  test('with H.264, frames carry the codec details (typed by the depacketizer)', () => {
    const assembler = new FrameAssembler(h264Depacketizer);
    const [frame] = assembler.push(packet(1, 100, Uint8Array.of(0x67, 0x42), true));
    assert.deepEqual([frame!.hasSps, frame!.nalTypes, frame!.complete], [true, [7], true]);
  });
});
