import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { audioLevelProcessor } from '../../src/audio/audio-level-processor.js';
import type { AudioChunk } from '../../src/audio/audio-chunk.js';
import type { AudioEvent } from '../../src/audio/audio-processor.js';
import { builtinAudioProcessors } from '../../src/audio/builtin-audio-processors.js';
import { VadRunner } from '../../src/audio/vad-runner.js';
import type { EnginePeer } from '../../src/engine/media-engine.js';
import { createNdcEngine } from '../../src/engine/ndc/ndc-engine.js';
import { ffmpegDecoder } from '../../src/engine/ndc/ndc-codecs.js';
import { opusReceiver } from '../../src/engine/ndc/audio-receiver.js';
import { WebRtcPublisher } from '@sightline/node';
import { speak, speechBounds, withSilence } from '../helpers/speech-clip.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client (@sightline/node's publisher: Opus through libopus) sending 48 kHz mono in 10 ms chunks, paced by the clock. */
class AudioClient {
  readonly publisher = new WebRtcPublisher({ video: false, audio: true, channel: false });
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;

  offer(): Promise<string> {
    return this.publisher.offer(3000);
  }

  /** Sends `frame(n)` (480 samples) for n = 0, 1, 2, … every 10 ms, paced by the clock. */
  start(frame: (n: number) => Int16Array): void {
    const t0 = performance.now();
    this.#timer = setInterval(() => {
      while (this.#sent * 10 <= performance.now() - t0) {
        this.publisher.sendAudio({ samples: frame(this.#sent), sampleRate: 48000, channels: 1 });
        this.#sent++;
      }
    }, 5);
  }

  startSine(hz: number, amp: number): void {
    this.start((n) => Int16Array.from({ length: 480 }, (_, i) => Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * (n * 480 + i)) / 48000))));
  }

  /** The clip, then silence. */
  startClip(clip: Int16Array): void {
    this.start((n) => {
      const f = new Int16Array(480);
      if (n * 480 < clip.length) f.set(clip.subarray(n * 480, n * 480 + 480));
      return f;
    });
  }

  close(): void {
    clearInterval(this.#timer);
    this.publisher.close();
  }
}

const engine = createNdcEngine({ createDecoder: ffmpegDecoder, createAudioReceiver: opusReceiver });

describe('media engine: audio tracks reach onAudioFrame (Opus decoded in-process)', () => {
  const clients: AudioClient[] = [];
  const peers: EnginePeer[] = [];
  const runner = new VadRunner();
  after(async () => {
    await runner.close();
    for (const p of peers) p.close();
    for (const c of clients) c.close();
  });

  /** A client and a server peer connected by one offer/answer. */
  async function connect(): Promise<{ client: AudioClient; peer: EnginePeer }> {
    const client = new AudioClient();
    clients.push(client);
    const peer = engine.createPeer({ iceServers: [], iceGatheringTimeoutMs: 3000 });
    peers.push(peer);
    const answer = await peer.answer(await client.offer());
    client.publisher.accept(answer);
    // Audio sent before DTLS completes is not sent at all: start once the track is open.
    await client.publisher.waitForMedia();
    return { client, peer };
  }

  test('a 440 Hz sine at half scale arrives as 48 kHz chunks at its level', async () => {
    const { client, peer } = await connect();
    const chunks: AudioChunk[] = [];
    const meter = audioLevelProcessor.open(audioLevelProcessor.params.parse({}), { sessionId: 's' });
    const levels: AudioEvent[] = [];
    meter.onEvent = (e) => levels.push(e);
    peer.onAudioFrame = (c) => {
      chunks.push(c);
      meter.push(c, Date.now());
    };
    client.startSine(440, 0.5);
    for (let i = 0; i < 300 && chunks.length < 100; i++) await sleep(20);
    assert.ok(chunks.length >= 100, `only ${chunks.length} chunks (${peer.state})`);
    assert.ok(
      chunks.every((c) => c.sampleRate === 48000),
      `rates ${[...new Set(chunks.map((c) => c.sampleRate))]}`,
    );
    const c = chunks.at(-1)!;
    assert.ok(c.channels === 1 || c.channels === 2, `channels ${c.channels}`);
    assert.equal(c.samples.length, 960 * c.channels, '20 ms per chunk: one Opus frame as the client sent it');
    // The samples are our own copies: distinct buffers from one chunk to the next.
    assert.notEqual(chunks.at(-1)!.samples.buffer, chunks.at(-2)!.samples.buffer);
    const peak = Math.max(...chunks.slice(-50).map((ch) => Math.max(...ch.samples.map(Math.abs))));
    assert.ok(peak > 8000, `peak ${peak}`);
    // Opus keeps a pure tone's level: −9.03 dBFS RMS for half scale.
    const last = levels.at(-1)!;
    assert.ok(last.type === 'audio_level' && Math.abs(last.rms_dbfs + 9.03) < 1.5, JSON.stringify(last));
    meter.close();
  });

  test('speech over WebRTC (Opus): vad gives one speech_start and one speech_end of the right length', async () => {
    const sentence = speak('Hello there, how are you today?');
    const [s0, s1] = speechBounds(sentence);
    await runner.start();
    const vad = builtinAudioProcessors({ vad: runner }).get('vad')!;
    const stream = vad.open(vad.params.parse({}), { sessionId: 's' });
    const events: AudioEvent[] = [];
    stream.onEvent = (e) => events.push(e);
    const { client, peer } = await connect();
    peer.onAudioFrame = (c) => stream.push(c, Date.now());
    client.startClip(withSilence(sentence, 0.5, 0));
    for (let i = 0; i < 300 && events.length < 2; i++) await sleep(20);
    stream.close();
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_start', 'speech_end'],
      JSON.stringify(events),
    );
    const end = events[1]!;
    assert.ok(end.type === 'speech_end' && Math.abs(end.duration_ms - (s1 - s0)) <= 300, `${JSON.stringify(end)} vs ${s1 - s0} ms`);
    assert.ok(Math.abs(end.at_ms - Date.now()) < 5000);
    assert.equal(stream.counters.windows_dropped, 0);
  });
});
