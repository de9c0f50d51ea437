import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OpusDecoder } from '../src/codecs/opus-decoder.js';
import { OpusEncoder } from '../src/codecs/opus-encoder.js';

/** A 440 Hz tone (plus a 1 kHz one on the right channel when stereo), interleaved. */
function tone(frames: number, channels: 1 | 2): Int16Array {
  const pcm = new Int16Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    pcm[i * channels] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000));
    if (channels === 2) pcm[i * 2 + 1] = Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / 48_000));
  }
  return pcm;
}

/** Best normalised correlation of `b` against `a` (one channel of each) over lags up to `maxLag` samples. */
function bestCorrelation(a: Int16Array, b: Int16Array, channels: number, channel: number, maxLag: number): number {
  let best = 0;
  for (let lag = 0; lag < maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 2000; i < 30_000; i++) {
      const x = a[i * channels + channel]!;
      const y = b[(i + lag) * channels + channel]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    best = Math.max(best, ab / Math.sqrt(aa * bb));
  }
  return best;
}

describe('Opus', () => {
  for (const channels of [1, 2] as const) {
    test(`${channels === 1 ? 'mono' : 'stereo'}: 10 ms chunks in, one 20 ms packet per full frame, decoded back to the tone`, () => {
      const encoder = new OpusEncoder({ channels });
      const decoder = new OpusDecoder({ channels });
      const pcm = tone(48_000, channels);
      const decoded: number[] = [];
      const timestamps: number[] = [];
      for (let chunk = 0; chunk < 100; chunk++) {
        const samples = pcm.subarray(chunk * 480 * channels, (chunk + 1) * 480 * channels);
        const packets = encoder.encode({ samples, sampleRate: 48_000, channels }, (0xffff_f000 + chunk * 480) >>> 0);
        // Every second chunk completes a 960-sample frame, whose packet comes out of that same call.
        assert.equal(packets.length, chunk % 2, `chunk ${chunk}`);
        for (const packet of packets) {
          timestamps.push(packet.rtpTimestamp);
          const result = decoder.decode(packet.data);
          assert.equal(result.status, 'ok', result.error);
          assert.equal(result.chunks.length, 1);
          const out = result.chunks[0]!;
          assert.equal(out.sampleRate, 48_000);
          assert.equal(out.channels, channels);
          assert.ok(out.samples instanceof Int16Array);
          assert.equal(out.samples.length, 960 * channels);
          decoded.push(...out.samples);
        }
      }
      // RTP timestamps: the first sample of each frame, on the 48 kHz clock, wrapping past 2^32.
      assert.deepEqual(
        timestamps.slice(0, 6),
        [0, 1, 2, 3, 4, 5].map((k) => (0xffff_f000 + k * 960) >>> 0),
      );
      const out = Int16Array.from(decoded);
      assert.ok(bestCorrelation(pcm, out, channels, 0, 1200) > 0.97);
      if (channels === 2) assert.ok(bestCorrelation(pcm, out, channels, 1, 1200) > 0.97);
      assert.deepEqual(decoder.counters, { packets: 50, errors: 0, samplesOut: 48_000 });
      encoder.close();
      decoder.close();
    });
  }

  test('a corrupt or empty packet is an error status, and the next packet decodes', () => {
    const encoder = new OpusEncoder();
    const decoder = new OpusDecoder();
    const [good] = encoder.encode({ samples: tone(960, 1), sampleRate: 48_000, channels: 1 }, 0);
    for (const bad of [Uint8Array.of(0xff, 0xff, 0x01, 0x02, 0x03), new Uint8Array(0)]) {
      const result = decoder.decode(bad);
      assert.equal(result.status, 'error');
      assert.ok(result.error);
      assert.deepEqual(result.chunks, []);
    }
    assert.equal(decoder.decode(good!.data).chunks[0]!.samples.length, 960);
    assert.equal(decoder.counters.errors, 2);
    encoder.close();
    decoder.close();
  });

  test('a stereo stream decodes to mono when asked (the default)', () => {
    const encoder = new OpusEncoder({ channels: 2 });
    const [packet] = encoder.encode({ samples: tone(960, 2), sampleRate: 48_000, channels: 2 }, 0);
    const decoder = new OpusDecoder();
    const [chunk] = decoder.decode(packet!.data).chunks;
    assert.deepEqual([chunk!.channels, chunk!.samples.length], [1, 960]);
    encoder.close();
    decoder.close();
  });

  test('the encoder refuses PCM that is not 48 kHz with its channel count; close() twice is safe', () => {
    const encoder = new OpusEncoder({ channels: 1 });
    assert.throws(() => encoder.encode({ samples: new Int16Array(441), sampleRate: 44_100, channels: 1 }, 0), /48000 Hz, 1 channel/);
    assert.throws(() => encoder.encode({ samples: new Int16Array(960), sampleRate: 48_000, channels: 2 }, 0), /got 48000 Hz, 2/);
    encoder.close();
    encoder.close();
    assert.throws(() => encoder.encode({ samples: new Int16Array(960), sampleRate: 48_000, channels: 1 }, 0), /closed/);
    const decoder = new OpusDecoder();
    decoder.close();
    decoder.close();
    assert.throws(() => decoder.decode(Uint8Array.of(0xf8)), /closed/);
  });
});
