import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AudioEvent, AudioProcessor, AudioStream } from '../../src/audio/audio-processor.js';
import { builtinAudioProcessors } from '../../src/audio/builtin-audio-processors.js';
import { SileroVad, VAD_WINDOW, newSileroState } from '../../src/audio/silero-vad.js';
import { VadRunner } from '../../src/audio/vad-runner.js';
import { CHUNK, RATE, speak, speechBounds, withSilence as clip } from '../helpers/speech-clip.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pushes `audio` in 10 ms chunks as RTCAudioSink delivers them (fresh arrays), stamped as if they arrived in real
 * time from `t0` (arrival = end of the chunk), at `speed` × real time; then waits until the stream settled.
 */
async function feed(stream: AudioStream, audio: Int16Array, t0: number, speed = 20): Promise<void> {
  const batch = Math.max(1, Math.round(speed / 2));
  for (let i = 0, n = 0; i + CHUNK <= audio.length; i += CHUNK, n++) {
    stream.push({ samples: audio.slice(i, i + CHUNK), sampleRate: RATE, channels: 1 }, t0 + (i + CHUNK) / (RATE / 1000));
    if (n % batch === batch - 1) await sleep(5);
  }
  for (let i = 0; i < 200; i++) {
    const c = stream.counters;
    if (c.windows_processed! + c.windows_dropped! >= completeWindows(c.audio_ms)) return;
    await sleep(10);
  }
  throw new Error(`stream did not settle: ${JSON.stringify(stream.counters)}`);
}

/** Windows the audio filled: the resampler holds back its filter's lookahead (under 1 ms). */
const completeWindows = (audioMs: number) => Math.floor((audioMs * 16 - 16) / VAD_WINDOW);

function collect(stream: AudioStream): AudioEvent[] {
  const events: AudioEvent[] = [];
  stream.onEvent = (e) => events.push(e);
  return events;
}

describe('vad processor with the real Silero model', () => {
  let runner: VadRunner;
  let vad: AudioProcessor<unknown>;
  let sentence: Int16Array;
  let truth: [number, number];
  const LEAD = 1.0;

  before(async () => {
    // A comma: a pause inside the sentence that must not split it.
    sentence = speak('Hello there, how are you today?');
    const [s, e] = speechBounds(sentence);
    truth = [LEAD * 1000 + s, LEAD * 1000 + e];
    runner = new VadRunner();
    vad = builtinAudioProcessors({ vad: runner }).get('vad')!;
    await runner.start();
  });
  after(async () => {
    await runner.close();
  });

  const open = (params: object = {}) => vad.open(vad.params.parse(params), { sessionId: 's' });

  test('a spoken sentence: one speech_start and one speech_end within 200 ms of the truth', async (t) => {
    const audio = clip(sentence, LEAD, 1.5);
    assert.ok(truth[1] - truth[0] > 1200 && truth[1] - truth[0] < 2500, `speech ${truth}`);
    const stream = open();
    const events = collect(stream);
    const t0 = Date.now();
    await feed(stream, audio, t0);
    stream.close();
    t.diagnostic(`truth ${truth.join('–')} ms; events ${JSON.stringify(events)}`);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end'],
    );
    const [start, end] = events as [Extract<AudioEvent, { type: 'speech_start' }>, Extract<AudioEvent, { type: 'speech_end' }>];
    assert.ok(Math.abs(start.t_ms - truth[0]) <= 200, `start ${start.t_ms} vs ${truth[0]}`);
    assert.ok(Math.abs(end.t_ms - truth[1]) <= 200, `end ${end.t_ms} vs ${truth[1]}`);
    assert.equal(end.duration_ms, end.t_ms - start.t_ms);
    // at_ms: the position's arrival time; the clip was stamped as arriving in real time from t0.
    assert.ok(Math.abs(start.at_ms - (t0 + start.t_ms)) < 1, `${start.at_ms - t0}`);
    assert.ok(Math.abs(end.at_ms - (t0 + end.t_ms)) < 1, `${end.at_ms - t0}`);
    const c = stream.counters;
    assert.equal(c.windows_dropped, 0);
    assert.equal(c.chunks_received, Math.floor(audio.length / CHUNK));
    assert.equal(c.chunks_received, c.chunks_processed + c.chunks_dropped);
    assert.ok(c.chunks_dropped <= 2, 'only the chunks of the last, partial window');
  });

  test('two sentences 1.2 s apart: two start/end pairs', async () => {
    const gap = new Int16Array(Math.round(1.2 * RATE));
    const two = new Int16Array(sentence.length * 2 + gap.length);
    two.set(sentence);
    two.set(sentence, sentence.length + gap.length);
    const stream = open();
    const events = collect(stream);
    await feed(stream, clip(two, LEAD, 1.5), Date.now());
    stream.close();
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end', 'speech_start', 'speech_end'],
    );
    const second = truth[0] + (sentence.length + gap.length) / (RATE / 1000);
    assert.ok(Math.abs(events[2]!.t_ms - second) <= 200, `${events[2]!.t_ms} vs ${second}`);
  });

  test('two streams at once keep their own model state (batched in one worker)', async () => {
    const a = open();
    const b = open();
    const ea = collect(a);
    const eb = collect(b);
    const t0 = Date.now();
    await Promise.all([feed(a, clip(sentence, LEAD, 1.5), t0), feed(b, clip(new Int16Array(0), 4, 0), t0)]);
    a.close();
    b.close();
    assert.deepEqual(
      ea.map((e) => e.type),
      ['speech_start', 'speech_end'],
    );
    assert.deepEqual(eb, []);
  });

  test('silence and noise give no speech events', async () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const noise = (dbfs: number) => Int16Array.from({ length: 3 * RATE }, () => Math.round(rand() * 32767 * 10 ** (dbfs / 20) * Math.sqrt(3)));
    for (const [name, audio] of [
      ['silence', new Int16Array(3 * RATE)],
      ['noise −40 dBFS', noise(-40)],
      ['noise −20 dBFS', noise(-20)],
    ] as const) {
      const stream = open();
      const events = collect(stream);
      await feed(stream, audio, Date.now());
      stream.close();
      assert.deepEqual(events, [], name);
      assert.equal(stream.counters.windows_dropped, 0);
    }
  });

  test('a backlog beyond maxPendingWindows is dropped and counted; close counts what is pending', async () => {
    const stream = builtinAudioProcessors({ vad: runner, maxPendingVadWindows: 2 }).get('vad')!;
    const s = stream.open(stream.params.parse({}), { sessionId: 's' });
    const audio = clip(sentence, LEAD, 0.5);
    for (let i = 0; i + CHUNK <= audio.length; i += CHUNK) s.push({ samples: audio.slice(i, i + CHUNK), sampleRate: RATE, channels: 1 }, Date.now());
    const c = s.counters;
    assert.ok(c.windows_dropped! > 50, JSON.stringify(c));
    s.close();
    assert.equal(c.chunks_received, c.chunks_processed + c.chunks_dropped, JSON.stringify(c));
    assert.equal(c.windows_processed! + c.windows_dropped!, completeWindows(c.audio_ms), JSON.stringify(c));
    s.push({ samples: audio.slice(0, CHUNK), sampleRate: RATE, channels: 1 }, Date.now());
    assert.equal(c.chunks_received, c.chunks_processed + c.chunks_dropped);
  });

  test('model cost per 32 ms window (batch 1 and 16, one thread)', async (t) => {
    const model = await SileroVad.load();
    const samples = Float32Array.from({ length: VAD_WINDOW }, (_, i) => 0.1 * Math.sin(i / 3));
    const time = async (batch: number, runs: number): Promise<number> => {
      const items = Array.from({ length: batch }, () => ({ samples, state: newSileroState() }));
      for (let i = 0; i < 10; i++) await model.run(items);
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await model.run(items);
      return (performance.now() - t0) / runs / batch;
    };
    const one = await time(1, 300);
    const sixteen = await time(16, 40);
    await model.close();
    t.diagnostic(
      `ms per window: batch 1 ${one.toFixed(3)}, batch 16 ${sixteen.toFixed(3)}; worker so far ${(runner.stats.modelMs / runner.stats.windows).toFixed(3)} over ${runner.stats.windows} windows in ${runner.stats.runs} runs`,
    );
    assert.ok(one < 32, 'faster than real time');
  });

  test('closing the runner rejects pending windows (counted as dropped); the worker exits', async () => {
    const r = new VadRunner();
    const p = builtinAudioProcessors({ vad: r }).get('vad')!;
    const s = p.open(p.params.parse({}), { sessionId: 's' });
    const audio = clip(sentence, 0, 0);
    for (let i = 0; i + CHUNK <= audio.length; i += CHUNK) s.push({ samples: audio.slice(i, i + CHUNK), sampleRate: RATE, channels: 1 }, Date.now());
    await r.close();
    await sleep(20);
    const c = s.counters;
    assert.equal(c.windows_processed, 0, 'the worker was still loading');
    assert.ok(c.windows_dropped! > 0);
    assert.ok(c.chunks_dropped > 0);
    s.close();
    assert.equal(c.chunks_received, c.chunks_processed + c.chunks_dropped);
    await assert.rejects(r.start(), /closed/);
  });

  test('a model that fails to load: start() rejects, windows are dropped and counted, nothing throws', async () => {
    const errors: Error[] = [];
    const r = new VadRunner({ modelPath: '/nonexistent/silero.onnx', onWorkerError: (e) => errors.push(e) });
    await assert.rejects(r.start(), /failed to load the model/);
    const p = builtinAudioProcessors({ vad: r }).get('vad')!;
    const s = p.open(p.params.parse({}), { sessionId: 's' });
    for (let i = 0; i < 100; i++) s.push({ samples: new Int16Array(CHUNK), sampleRate: RATE, channels: 1 }, Date.now());
    await sleep(20);
    s.close();
    const c = s.counters;
    assert.equal(c.windows_processed, 0);
    assert.equal(c.windows_dropped, completeWindows(c.audio_ms));
    assert.deepEqual([c.chunks_received, c.chunks_processed, c.chunks_dropped], [100, 0, 100]);
    assert.equal(errors.length, 1, 'one failed start; no retry storm');
    await r.close();
  });
});
