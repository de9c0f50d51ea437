import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { audioLevelProcessor } from '../../src/audio/audio-level-processor.js';
import type { AudioChunk } from '../../src/audio/audio-chunk.js';
import type { AudioEvent } from '../../src/audio/audio-processor.js';
import { builtinAudioProcessors } from '../../src/audio/builtin-audio-processors.js';
import { VadRunner } from '../../src/audio/vad-runner.js';
import type { EnginePeer } from '../../src/engine/media-engine.js';
import { wrtc } from '../../src/engine/wrtc-binding.js';
import { wrtcEngine } from '../../src/engine/wrtc-engine.js';
import { exitWhenDone } from '../helpers/exit.js';
import { speak, speechBounds, withSilence } from '../helpers/speech-clip.js';

const w = wrtc;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A wrtc client sending a 48 kHz mono sine (amplitude `amp` of full scale) in 10 ms frames, paced by the clock. */
class AudioClient {
  readonly pc = new w.RTCPeerConnection();
  readonly source = new w.nonstandard.RTCAudioSource();
  readonly track = this.source.createTrack();
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;

  constructor() {
    this.pc.addTrack(this.track);
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        this.pc.onicegatheringstatechange = () => this.pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 3000);
      });
    }
    return this.pc.localDescription.sdp;
  }

  /** Sends `frame(n)` (480 samples) for n = 0, 1, 2, … every 10 ms, paced by the clock. */
  start(frame: (n: number) => Int16Array): void {
    const t0 = performance.now();
    this.#timer = setInterval(() => {
      while (this.#sent * 10 <= performance.now() - t0) {
        this.source.onData({ samples: frame(this.#sent), sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
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
    // Not track.stop(): stopping an RTCAudioSource's track and closing its connection makes wrtc crash (SIGSEGV)
    // at process exit. Closing the connection alone ends the track. (Servers never hold an RTCAudioSource.)
    this.pc.close();
  }
}

describe('wrtc engine: audio tracks reach onAudioFrame', () => {
  const clients: AudioClient[] = [];
  const peers: EnginePeer[] = [];
  const runner = new VadRunner();
  after(async () => {
    await runner.close();
    // Server peers first: close() stops their audio sinks before their connections close.
    for (const p of peers) p.close();
    for (const c of clients) c.close();
    exitWhenDone();
  });

  /** A client and a server peer connected by one offer/answer. */
  async function connect(): Promise<{ client: AudioClient; peer: EnginePeer }> {
    const client = new AudioClient();
    clients.push(client);
    const peer = wrtcEngine.createPeer({ iceServers: [], iceGatheringTimeoutMs: 3000 });
    peers.push(peer);
    const answer = await peer.answer(await client.offer());
    await client.pc.setRemoteDescription({ type: 'answer', sdp: answer });
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
    for (let i = 0; i < 300 && chunks.length < 150; i++) await sleep(20);
    assert.ok(chunks.length >= 150, `only ${chunks.length} chunks (${peer.state})`);
    // libwebrtc may deliver a few silent 16 kHz chunks before the first packet is decoded; then Opus's 48 kHz.
    const first = chunks.findIndex((c) => c.sampleRate === 48000);
    assert.ok(first >= 0 && first < 10, `first 48 kHz chunk: ${first}`);
    assert.ok(chunks.slice(0, first).every((c) => c.samples.every((v) => v === 0)));
    assert.ok(
      chunks.slice(first).every((c) => c.sampleRate === 48000),
      `rates ${[...new Set(chunks.map((c) => c.sampleRate))]}`,
    );
    const c = chunks.at(-1)!;
    assert.ok(c.channels === 1 || c.channels === 2, `channels ${c.channels}`);
    assert.equal(c.samples.length, 480 * c.channels, '10 ms per chunk');
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
