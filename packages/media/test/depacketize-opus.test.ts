import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { depacketizerCodecOf, depacketizerFor, FrameAssembler, opusDepacketizer } from '../src/depacketize/index.js';

describe('Opus depacketizer (RFC 7587)', () => {
  test('one packet is one frame, emitted at once without a marker; losses show as lostBefore', () => {
    const assembler = new FrameAssembler(opusDepacketizer);
    const packet = (sequenceNumber: number, timestamp: number) => ({
      sequenceNumber,
      timestamp,
      payload: Uint8Array.of(0xfc, sequenceNumber & 0xff),
      marker: false,
    });
    const frames = [packet(65535, 2 ** 32 - 960), packet(0, 0), packet(2, 1920)].flatMap((p) => [...assembler.push(p)]);
    assert.deepEqual(
      frames.map((f) => [f.timestamp, f.complete, f.keyframe, f.lostBefore, f.data[1]]),
      [
        [2 ** 32 - 960, true, true, 0, 255],
        [0, true, true, 0, 0],
        [1920, true, true, 1, 2],
      ],
    );
    assert.deepEqual([assembler.counters.frames, assembler.counters.lostPackets, assembler.counters.incompleteFrames], [3, 1, 0]);
  });

  test('the payload is passed through untouched', () => {
    const payload = Uint8Array.of(0x78, 1, 2, 3);
    assert.equal(opusDepacketizer.depacketize([payload]).data, payload);
    assert.equal(opusDepacketizer.depacketize([new Uint8Array(0)]).complete, false);
  });
});

describe('depacketizer registry', () => {
  test('depacketizerFor gives each codec its depacketizer', () => {
    for (const codec of ['H264', 'H265', 'VP8', 'VP9', 'AV1', 'opus'] as const) assert.equal(depacketizerFor(codec).codec, codec);
    assert.equal(depacketizerFor('opus').packetIsFrame, true);
    assert.equal(depacketizerFor('H264').packetIsFrame, false);
  });

  test('depacketizerCodecOf maps SDP encoding names, case-insensitively', () => {
    assert.deepEqual(['h264', 'H265', 'hevc', 'vp8', 'VP9', 'av1', 'OPUS', 'opus', 'red', 'rtx', 'G722'].map(depacketizerCodecOf), [
      'H264',
      'H265',
      'H265',
      'VP8',
      'VP9',
      'AV1',
      'opus',
      'opus',
      undefined,
      undefined,
      undefined,
    ]);
  });
});
