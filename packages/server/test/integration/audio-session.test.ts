import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AudioEventMessage } from '@sightline/protocol';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { astronautPng } from '../helpers/paths.js';
import { speak, speechBounds, withSilence } from '../helpers/speech-clip.js';

const KEY = 'k';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('audio in a session: vad and audio-level beside a video processor (real WebRTC, Opus)', () => {
  let server: SightlineServer;
  const peers: NodePeer[] = [];

  before(async () => {
    server = await createServer(loadConfig(['--workers', '1', '--log-level', 'silent'], { SIGHTLINE_API_KEYS: KEY }));
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test('speech_start/speech_end at the speech in the clip (±200 ms), levels, and face results at the same time', async () => {
    const LEAD = 1.0;
    const sentence = speak('Hello there, how are you today?');
    const [s0, s1] = speechBounds(sentence);
    const truth = { start: LEAD * 1000 + s0, end: LEAD * 1000 + s1 };
    const { peer, id } = await openNodeSession(
      server.app,
      KEY,
      peers,
      { processor: 'face', audio: { vad: {}, 'audio-level': { interval_ms: 500 } } },
      { audio: true },
    );
    peer.startSending(readPngAsI420(astronautPng), 15);
    const t0 = performance.timeOrigin + peer.startAudio(withSilence(sentence, LEAD, 2));
    const deadline = Date.now() + 15_000;
    while (!peer.messages.some((m) => m.type === 'speech_end') && Date.now() < deadline) await sleep(50);
    peer.stopSending();
    const audio = peer.messages.filter((m) => AudioEventMessage.safeParse(m).success) as Array<Record<string, number | string>>;
    const starts = audio.filter((m) => m.type === 'speech_start');
    const ends = audio.filter((m) => m.type === 'speech_end');
    assert.equal(starts.length, 1, JSON.stringify(audio.filter((m) => m.type !== 'audio_level')));
    assert.equal(ends.length, 1);
    // at_ms: when that point of the audio reached the server (epoch ms). The client played the clip from t0, so the
    // speech began at t0 + truth.start on its clock (the same clock here) plus the transport's delay (Opus packet,
    // jitter buffer: tens of ms on loopback).
    const late = { start: (starts[0]!.at_ms as number) - (t0 + truth.start), end: (ends[0]!.at_ms as number) - (t0 + truth.end) };
    console.log(
      `speech_start ${late.start.toFixed(0)} ms, speech_end ${late.end.toFixed(0)} ms after the speech left the client (t_ms ${starts[0]!.t_ms}-${ends[0]!.t_ms}, clip ${truth.start}-${truth.end})`,
    );
    assert.ok(Math.abs(late.start) <= 200, `speech_start ${late.start} ms off`);
    assert.ok(Math.abs(late.end) <= 200, `speech_end ${late.end} ms off`);
    // t_ms is the position in the audio received, which starts when the server's track starts (before the client's
    // first sample arrives): the speech's length is what it must match.
    const length = (ends[0]!.t_ms as number) - (starts[0]!.t_ms as number);
    assert.ok(Math.abs(length - (truth.end - truth.start)) <= 200, `speech ${length} ms long, truly ${truth.end - truth.start}`);
    const levels = audio.filter((m) => m.type === 'audio_level');
    assert.ok(levels.length >= 4, `${levels.length} levels`);
    const loud = levels.filter((m) => (m.t_ms as number) >= truth.start && (m.t_ms as number) + 500 <= truth.end);
    const quiet = levels.filter((m) => (m.t_ms as number) + 500 <= truth.start - 100);
    assert.ok(loud.every((m) => (m.rms_dbfs as number) > -40) && quiet.every((m) => (m.rms_dbfs as number) < -60), JSON.stringify(levels));
    const results = peer.messages.filter((m) => m.type === 'result');
    assert.ok(results.length >= 20 && results.filter((m) => (m.boxes as unknown[]).length === 1).length >= results.length * 0.9);
    const summary = server.sessions.get(id)!.summary();
    assert.ok(summary.audio_ms! > 3000 && summary.audio_events === audio.length, JSON.stringify(summary));
  });

  test('audio processors need an audio track, and must exist', async () => {
    const offer = async (audio: unknown, withAudio: boolean) => {
      const p = new NodePeer({ audio: withAudio });
      peers.push(p);
      return server.app.inject({
        method: 'POST',
        url: '/webrtc/offer',
        headers: { 'content-type': 'application/json', 'api-key': KEY },
        payload: JSON.stringify({ sdp: await p.offer(), type: 'offer', audio }),
      });
    };
    const noTrack = await offer({ vad: {} }, false);
    assert.equal(noTrack.statusCode, 400);
    assert.match(noTrack.json().error.message, /audio processors \(vad\) need an audio section/);
    const unknown = await offer({ whisper: {} }, true);
    assert.equal(unknown.json().error.code, 'unknown_processor');
    const bad = await offer({ vad: { threshold: 3 } }, true);
    assert.equal(bad.json().error.code, 'invalid_params');
    const list = await server.app.inject({ method: 'GET', url: '/v1/processors', headers: { 'api-key': KEY } });
    assert.deepEqual(
      list
        .json()
        .audio_processors.map((p: { name: string }) => p.name)
        .sort(),
      ['audio-level', 'vad'],
    );
  });
});
