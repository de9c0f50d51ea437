import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { encodeFrameChunks, FRAME_CHUNK_HEADER_BYTES, parseFrameChunk } from '@sightline/protocol';
import sharp from 'sharp';
import { decodeImageToI420, sniffImageFormat } from '../../src/models/image-decode.js';
import { rgbToI420 } from '../../src/models/i420.js';
import { FrameAssembler } from '../../src/pipeline/frame-assembler.js';
import { EncodedFrameInput } from '../../src/session/encoded-frame-input.js';
import { astronautPng } from '../helpers/paths.js';

const astronautJpeg = (): Promise<Buffer> => sharp(readFileSync(astronautPng)).jpeg({ quality: 85 }).toBuffer();

describe('frame chunks', () => {
  test('round trip: header fields and payload survive; chunk sizes respected', () => {
    const image = new Uint8Array(40_000).map((_, i) => i % 251);
    const chunks = encodeFrameChunks(image, 4_000_000_000, 1234.5, 16_000);
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((c) => c.byteLength <= 16_000 + FRAME_CHUNK_HEADER_BYTES));
    const parsed = chunks.map((c) => parseFrameChunk(c));
    for (const [i, p] of parsed.entries()) {
      assert.ok(!('error' in p));
      assert.deepEqual([p.frameId, p.index, p.count, p.timestampMs], [4_000_000_000, i, 3, 1234.5]);
    }
    const joined = Buffer.concat(parsed.map((p) => ('error' in p ? Buffer.alloc(0) : Buffer.from(p.payload))));
    assert.deepEqual(new Uint8Array(joined), image);
  });

  test('malformed chunks say why', () => {
    assert.match((parseFrameChunk(new Uint8Array(5)) as { error: string }).error, /shorter than the 20-byte header/);
    const c = encodeFrameChunks(new Uint8Array(10), 1, 0)[0]!;
    const badMagic = c.slice();
    badMagic[0] = 0;
    assert.match((parseFrameChunk(badMagic) as { error: string }).error, /magic/);
    const badIndex = c.slice();
    badIndex[9] = 5; // chunk_index 5 of 1
    assert.match((parseFrameChunk(badIndex) as { error: string }).error, /chunk_index 5 is not below chunk_count 1/);
  });
});

describe('FrameAssembler', () => {
  const image = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);

  test('reassembles chunks arriving out of order, frames interleaved', () => {
    const a = new FrameAssembler({ maxFrameBytes: 1 << 20 });
    const f1 = encodeFrameChunks(image, 1, 10, 20_000);
    const f2 = encodeFrameChunks(image.subarray(0, 100), 2, 20);
    assert.equal(a.add(f1[2]!).frame, undefined);
    assert.equal(a.add(f2[0]!).frame?.frameId, 2);
    assert.equal(a.add(f1[0]!).frame, undefined);
    const done = a.add(f1[1]!).frame!;
    assert.equal(done.frameId, 1);
    assert.equal(done.timestampMs, 10);
    assert.deepEqual(done.bytes, image);
    assert.deepEqual(a.counters, { chunks: 4, frames: 2, rejected: 0, ignoredChunks: 0, partial: 0 });
  });

  test('oversize frames are rejected once; their later chunks are counted, not re-rejected', () => {
    const a = new FrameAssembler({ maxFrameBytes: 30_000 });
    const chunks = encodeFrameChunks(image, 7, 0, 20_000);
    assert.deepEqual(a.add(chunks[0]!).rejected, []);
    const r = a.add(chunks[1]!).rejected;
    assert.equal(r.length, 1);
    assert.equal(r[0]!.code, 'frame_too_large');
    assert.equal(r[0]!.frameId, 7);
    assert.deepEqual(a.add(chunks[2]!).rejected, []);
    assert.equal(a.counters.ignoredChunks, 1);
  });

  test('a rejected frame id is free again once its chunks are in: a client that reuses ids gets its next frame', () => {
    // Found by the fuzz suite (datachannel): every later frame with a rejected id was ignored, never acknowledged.
    const a = new FrameAssembler({ maxFrameBytes: 30_000 });
    const big = encodeFrameChunks(image, 7, 0, 20_000);
    a.add(big[0]!);
    assert.equal(a.add(big[1]!).rejected[0]!.code, 'frame_too_large');
    assert.deepEqual(a.add(big[2]!), { rejected: [] }, 'the rest of the rejected frame is ignored');
    const small = image.subarray(0, 100);
    assert.deepEqual(a.add(encodeFrameChunks(small, 7, 5)[0]!).frame?.bytes, small);
    // Rejected at its only chunk: nothing more of it to come.
    assert.equal(a.add(encodeFrameChunks(image.subarray(0, 40_000), 8, 0, 40_000)[0]!).rejected[0]!.code, 'frame_too_large');
    assert.deepEqual(a.add(encodeFrameChunks(small, 8, 6)[0]!).frame?.bytes, small);
    assert.equal(a.counters.ignoredChunks, 1);
  });

  test('duplicate chunks, inconsistent counts and too many partial frames are rejected', () => {
    const a = new FrameAssembler({ maxFrameBytes: 1 << 20, maxPartialFrames: 2 });
    const c = encodeFrameChunks(image, 1, 0, 20_000);
    a.add(c[0]!);
    assert.match(a.add(c[0]!).rejected[0]!.message, /chunk 0 arrived twice/);
    a.add(encodeFrameChunks(image, 2, 0, 20_000)[0]!);
    a.add(encodeFrameChunks(image, 3, 0, 20_000)[0]!);
    const evicted = a.add(encodeFrameChunks(image, 4, 0, 20_000)[0]!).rejected;
    assert.equal(evicted[0]?.frameId, 2);
    assert.match(evicted[0]!.message, /incomplete: 1 of 3 chunks/);
    const other = encodeFrameChunks(image, 3, 0, 10_000)[1]!; // says 5 chunks; frame 3 began with 3
    assert.match(a.add(other).rejected[0]!.message, /chunk says 5 chunks, an earlier chunk said 3/);
  });
});

describe('image decoding', () => {
  test('sniffs JPEG and WebP by their bytes', async () => {
    assert.equal(sniffImageFormat(await astronautJpeg()), 'jpeg');
    assert.equal(sniffImageFormat(await sharp(readFileSync(astronautPng)).webp().toBuffer()), 'webp');
    assert.equal(sniffImageFormat(readFileSync(astronautPng)), null);
    assert.equal(sniffImageFormat(new TextEncoder().encode('hello world, not an image')), null);
  });

  test('JPEG and WebP decode to I420 close to the source picture', async () => {
    const { data: rgb, info } = await sharp(readFileSync(astronautPng)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const truth = rgbToI420(new Uint8Array(rgb), info.width, info.height, 3);
    for (const enc of [await astronautJpeg(), await sharp(readFileSync(astronautPng)).webp({ quality: 90 }).toBuffer()]) {
      const f = await decodeImageToI420(enc, 10_000_000);
      assert.deepEqual([f.width, f.height], [info.width, info.height]);
      let err = 0;
      for (let i = 0; i < f.width * f.height; i++) err += Math.abs(f.data[i]! - truth.data[i]!);
      assert.ok(err / (f.width * f.height) < 4, `mean luma error ${err / (f.width * f.height)}`);
    }
  });

  test('truncated JPEG, non-images and over-size pictures get their own codes', async () => {
    const jpeg = await astronautJpeg();
    await assert.rejects(decodeImageToI420(jpeg.subarray(0, 400), 10_000_000), (e: Error & { code?: string }) => e.code === 'invalid_frame');
    await assert.rejects(decodeImageToI420(readFileSync(astronautPng), 10_000_000), (e: Error & { code?: string }) => e.code === 'unsupported_format');
    await assert.rejects(decodeImageToI420(jpeg, 1000), (e: Error & { code?: string }) => e.code === 'frame_too_large' && /1000 pixels/.test(e.message));
  });
});

describe('EncodedFrameInput', () => {
  test('every frame ends decoded or rejected, in order', async () => {
    const jpeg = new Uint8Array(await astronautJpeg());
    const decoded: number[] = [];
    const rejected: Array<[number | undefined, string]> = [];
    const input = new EncodedFrameInput({
      maxFrameBytes: 1 << 20,
      maxPixels: 10_000_000,
      onFrame: (f, id, ts) => {
        assert.ok(f.width > 0 && ts === id * 10);
        decoded.push(id);
      },
      onRejected: (id, code) => rejected.push([id, code]),
    });
    for (const c of encodeFrameChunks(jpeg, 0, 0)) input.push(c);
    input.push(encodeFrameChunks(new TextEncoder().encode('not a picture'), 1, 10)[0]!);
    input.push(new Uint8Array(3));
    for (const c of encodeFrameChunks(jpeg, 2, 20)) input.push(c);
    const deadline = Date.now() + 5000;
    while (decoded.length + rejected.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(decoded, [0, 2]);
    assert.deepEqual(rejected, [
      [undefined, 'invalid_frame'],
      [1, 'unsupported_format'],
    ]);
    assert.deepEqual(input.counters, { decoded: 2, rejected: 2, dropped: 0, ignoredChunks: 0 });
  });
});
