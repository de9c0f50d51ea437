import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspectAccessUnit } from '../src/codecs/access-unit.js';

const annexB = (...nals: number[][]): Uint8Array => Uint8Array.from(nals.flatMap((nal) => [0, 0, 0, 1, ...nal]));
/** An AV1 OBU with obu_has_size_field set and a one-byte size. */
const obu = (type: number, payload: number[]): number[] => [(type << 3) | 0x02, payload.length, ...payload];

describe('inspectAccessUnit', () => {
  test('H.264: parameter sets alone are no picture; a slice is one; no start code or an RTP-only NAL type is malformed', () => {
    const sps = [0x67, 0x42, 0xc0, 0x1e];
    const pps = [0x68, 0xce, 0x3c, 0x80];
    assert.equal(inspectAccessUnit('H264', annexB([0x09, 0xf0], sps, pps)), 'no-picture');
    assert.equal(inspectAccessUnit('H264', annexB(sps, pps, [0x65, 0x88, 0x84])), 'picture');
    assert.equal(inspectAccessUnit('H264', Uint8Array.of(0, 0, 1, 0x41, 0x9a, 0x02)), 'picture'); // 3-byte start code, non-IDR slice
    assert.equal(inspectAccessUnit('H264', Uint8Array.of(0x65, 0x88, 0x84, 0x00)), 'malformed');
    assert.equal(inspectAccessUnit('H264', annexB([0x7c, 0x85, 0x88])), 'malformed'); // FU-A left in
    assert.equal(inspectAccessUnit('H264', annexB([0xe5, 0x88])), 'malformed'); // forbidden_zero_bit
    assert.equal(inspectAccessUnit('H264', new Uint8Array(0)), 'malformed');
  });

  test('H.265: VPS/SPS/PPS alone are no picture; VCL units are pictures; AP/FU types are malformed', () => {
    const nal = (type: number, ...rest: number[]): number[] => [type << 1, 0x01, ...rest];
    assert.equal(inspectAccessUnit('H265', annexB(nal(32, 0x0c), nal(33, 0x01), nal(34, 0xc1))), 'no-picture');
    assert.equal(inspectAccessUnit('H265', annexB(nal(32, 0x0c), nal(19, 0xaf))), 'picture'); // IDR_W_RADL
    assert.equal(inspectAccessUnit('H265', annexB(nal(1, 0xd0))), 'picture');
    assert.equal(inspectAccessUnit('H265', annexB(nal(49, 0x93))), 'malformed');
  });

  test('AV1: a sequence header alone is no picture; a frame OBU is one; a broken OBU chain is malformed', () => {
    const td = obu(2, []);
    const seq = obu(1, [0x00, 0x00, 0x00, 0x02]);
    assert.equal(inspectAccessUnit('AV1', Uint8Array.from([...td, ...seq])), 'no-picture');
    assert.equal(inspectAccessUnit('AV1', Uint8Array.from([...td, ...seq, ...obu(6, [0x10, 0x00])])), 'picture');
    assert.equal(inspectAccessUnit('AV1', Uint8Array.from([...td, ...obu(3, [0x30])])), 'picture');
    assert.equal(inspectAccessUnit('AV1', Uint8Array.from([...td, (6 << 3) | 0x02, 40, 1, 2])), 'malformed'); // size past the end
    assert.equal(inspectAccessUnit('AV1', Uint8Array.from([...td, 6 << 3, 1, 2])), 'malformed'); // no size field
    assert.equal(inspectAccessUnit('AV1', Uint8Array.from(obu(10, [1]))), 'malformed'); // reserved type
  });

  test('VP8/VP9: any non-empty frame is a picture (their decoders reject garbage themselves)', () => {
    assert.equal(inspectAccessUnit('VP8', Uint8Array.of(0x10, 0x02, 0x00)), 'picture');
    assert.equal(inspectAccessUnit('VP9', Uint8Array.of(0x82, 0x49, 0x83)), 'picture');
    assert.equal(inspectAccessUnit('VP9', new Uint8Array(0)), 'malformed');
  });
});
