import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { audioLevelProcessor } from '../../src/audio/audio-level-processor.js';
import type { AudioEvent } from '../../src/audio/audio-processor.js';
import { LevelMeter, MIN_DBFS } from '../../src/audio/level-meter.js';
import { downmix, Resampler16k } from '../../src/audio/resample.js';
import { VadStateMachine } from '../../src/audio/vad-state.js';

/** `seconds` of a sine at `hz`, amplitude `amp` (1 = full scale), as Int16 at `rate`, `channels` interleaved. */
function sine(hz: number, amp: number, rate: number, seconds: number, channels = 1): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n * channels);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < channels; c++) out[i * channels + c] = Math.round(Math.min(32767, amp * 32768 * Math.sin((2 * Math.PI * hz * i) / rate)));
  return out;
}

describe('downmix and resampling to 16 kHz', () => {
  test('downmix averages interleaved channels to float', () => {
    const m = downmix({ samples: Int16Array.from([16384, -16384, 32767, 32767, -32768, 0]), sampleRate: 48000, channels: 2 });
    assert.deepEqual(
      [...m].map((v) => +v.toFixed(4)),
      [0, 1, -0.5],
    );
  });

  for (const rate of [48000, 44100, 32000, 16000, 8000]) {
    test(`${rate} Hz in 10 ms chunks: exact length, a 1 kHz tone keeps amplitude and phase`, () => {
      const r = new Resampler16k();
      const input = sine(1000, 0.5, rate, 1);
      const parts: Float32Array[] = [];
      const chunk = Math.round(rate / 100);
      for (let i = 0; i < input.length; i += chunk)
        parts.push(r.process(downmix({ samples: input.subarray(i, i + chunk), sampleRate: rate, channels: 1 }), rate));
      const out = Float32Array.from(parts.flatMap((p) => [...p]));
      assert.ok(out.length <= 16000 && out.length >= 15960, `${out.length} samples`);
      let err = 0;
      for (let n = 200; n < out.length; n++) err = Math.max(err, Math.abs(out[n]! - 0.5 * Math.sin((2 * Math.PI * 1000 * n) / 16000)));
      // Upsampling from 8 kHz interpolates linearly between input samples: a few % at 1 kHz.
      assert.ok(err < (rate < 16000 ? 0.05 : 0.02), `max error ${err}`);
    });
  }

  test('48 kHz: a 12 kHz tone (above 8 kHz) is filtered out, not aliased', () => {
    const r = new Resampler16k();
    const out = r.process(downmix({ samples: sine(12000, 0.5, 48000, 0.5), sampleRate: 48000, channels: 1 }), 48000);
    let peak = 0;
    for (let n = 100; n < out.length; n++) peak = Math.max(peak, Math.abs(out[n]!));
    assert.ok(peak < 0.01, `residual ${peak}`);
  });
});

describe('level meter and the audio-level processor', () => {
  test('full-scale sine: −3.01 dBFS RMS, 0 dBFS peak; silence reads the floor', () => {
    const m = new LevelMeter(4800);
    const [r] = m.push(sine(1000, 1, 48000, 0.1), 1);
    assert.ok(Math.abs(r!.rmsDbfs + 3.01) < 0.1, String(r!.rmsDbfs));
    assert.ok(Math.abs(r!.peakDbfs) < 0.01, String(r!.peakDbfs));
    const [s] = m.push(new Int16Array(4800), 1);
    assert.equal(s!.rmsDbfs, MIN_DBFS);
    assert.equal(s!.peakDbfs, MIN_DBFS);
    assert.equal(s!.startFrame, 4800);
  });

  test('audio-level: one reading per interval_ms from 10 ms chunks, stereo, t_ms from sample counts', () => {
    const stream = audioLevelProcessor.open(audioLevelProcessor.params.parse({ interval_ms: 50 }), { sessionId: 's' });
    const events: AudioEvent[] = [];
    stream.onEvent = (e) => events.push(e);
    const loud = sine(440, 0.5, 48000, 0.5, 2);
    for (let i = 0; i < loud.length; i += 960) stream.push({ samples: loud.subarray(i, i + 960), sampleRate: 48000, channels: 2 }, Date.now());
    const quiet = new Int16Array(960 * 25);
    for (let i = 0; i < quiet.length; i += 960) stream.push({ samples: quiet.subarray(i, i + 960), sampleRate: 48000, channels: 2 }, Date.now());
    assert.equal(events.length, 15);
    assert.deepEqual(
      events.map((e) => e.t_ms),
      Array.from({ length: 15 }, (_, i) => i * 50),
    );
    for (const e of events.slice(0, 10)) {
      assert.equal(e.type, 'audio_level');
      if (e.type !== 'audio_level') continue;
      assert.ok(Math.abs(e.rms_dbfs - (20 * Math.log10(0.5) - 3.01)) < 0.1, String(e.rms_dbfs));
      assert.ok(Math.abs(e.peak_dbfs - 20 * Math.log10(0.5)) < 0.05, String(e.peak_dbfs));
    }
    for (const e of events.slice(10)) if (e.type === 'audio_level') assert.equal(e.rms_dbfs, MIN_DBFS);
    stream.push({ samples: new Int16Array(3), sampleRate: 48000, channels: 2 }, 0); // not a whole frame: dropped
    stream.close();
    stream.push({ samples: quiet.subarray(0, 960), sampleRate: 48000, channels: 2 }, 0);
    assert.deepEqual({ ...stream.counters }, { chunks_received: 77, chunks_processed: 75, chunks_dropped: 2, events_emitted: 15, audio_ms: 750 });
  });

  test('params: defaults and limits from the schema', () => {
    assert.deepEqual(audioLevelProcessor.params.parse({}), { interval_ms: 100 });
    assert.equal(audioLevelProcessor.params.safeParse({ interval_ms: 1 }).success, false);
  });
});

describe('VAD decision state machine', () => {
  const W = 512;
  const p = { threshold: 0.5, minSpeech: 4 * W, minSilence: 8 * W, pad: 2 * W };
  /** Runs per-window probabilities; returns the decisions with their window index. */
  const run = (probs: number[]) => {
    const m = new VadStateMachine(p);
    return probs.flatMap((pr, i) => {
      const d = m.window(i * W, W, pr);
      return d ? [{ at: i, ...d }] : [];
    });
  };

  test('start confirmed after min speech, placed at the first speech window minus pad; end at the silence start', () => {
    const probs = [...Array(10).fill(0.1), ...Array(20).fill(0.9), ...Array(10).fill(0.05)];
    assert.deepEqual(run(probs), [
      { at: 13, type: 'start', pos: 8 * W },
      { at: 37, type: 'end', pos: 30 * W, start: 8 * W },
    ]);
  });

  test('pauses shorter than min silence and probabilities between the thresholds do not split speech', () => {
    const probs = [...Array(10).fill(0.9), ...Array(7).fill(0.1), ...Array(10).fill(0.9), ...Array(12).fill(0.4), 0.9, ...Array(8).fill(0.1)];
    const d = run(probs);
    assert.deepEqual(
      d.map((x) => x.type),
      ['start', 'end'],
    );
    assert.equal(d[1]!.pos, 40 * W);
  });

  test('a blip shorter than min speech is forgotten; silence and mid probabilities give nothing', () => {
    assert.deepEqual(run([...Array(5).fill(0.1), 0.9, 0.9, 0.9, ...Array(20).fill(0.1)]), []);
    assert.deepEqual(run(Array(100).fill(0.45)), []);
  });

  test('the pad never reaches back before the previous end', () => {
    const m = new VadStateMachine({ ...p, pad: 10 * W });
    const probs = [...Array(6).fill(0.9), ...Array(8).fill(0.1), ...Array(6).fill(0.9), ...Array(8).fill(0.1)];
    const d = probs.flatMap((pr, i) => m.window(i * W, W, pr) ?? []);
    assert.deepEqual(
      d.map((x) => [x.type, x.pos / W]),
      [
        ['start', 0],
        ['end', 6],
        ['start', 6],
        ['end', 20],
      ],
    );
  });
});
