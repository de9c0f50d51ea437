import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { readPngAsI420 } from '../helpers/images.js';
import { NodePeer, openNodeSession } from '../helpers/node-peer.js';
import { astronautPng } from '../helpers/paths.js';

const KEY = 'k';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function probe(file: string): { duration: number; streams: string[] } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out) as { format: { duration: string }; streams: Array<{ codec_type: string }> };
  return { duration: Number(j.format.duration), streams: j.streams.map((s) => s.codec_type).sort() };
}

describe('recording sessions (opt-in per session or for all)', () => {
  const peers: NodePeer[] = [];
  const servers: SightlineServer[] = [];
  let dir: string;

  const start = async (args: string[]): Promise<SightlineServer> => {
    const s = await createServer(loadConfig(['--workers', '1', '--log-level', 'silent', ...args], { SIGHTLINE_API_KEYS: KEY }));
    servers.push(s);
    return s;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sightline-rec-'));
  });
  after(async () => {
    for (const p of peers) p.close();
    for (const s of servers) await s.close();
  });

  test('record: true → a playable mp4 (video + audio) and a JSONL of exactly the results the client got', async () => {
    const server = await start(['--record-dir', dir]);
    const { peer, id } = await openNodeSession(server.app, KEY, peers, { record: true, audio: { 'audio-level': {} } }, { audio: true });
    peer.startSending(readPngAsI420(astronautPng), 15);
    peer.startAudio(Int16Array.from({ length: 48_000 * 4 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48_000))));
    await sleep(3000);
    peer.stopSending();
    await sleep(500);
    const session = server.sessions.get(id)!;
    const r = await server.app.inject({ method: 'DELETE', url: `/webrtc/sessions/${id}`, headers: { 'api-key': KEY } });
    assert.equal(r.statusCode, 200);
    const paths = r.json().recording as { media: string; results: string };
    assert.equal(paths.media, join(dir, `${id}.mp4`));
    const summary = (await session.recordingDone)!;
    assert.deepEqual(summary.errors, []);
    const p = probe(paths.media);
    assert.deepEqual(p.streams, ['audio', 'video']);
    assert.ok(p.duration > 2.5 && p.duration < 4.5, `duration ${p.duration}`);
    const lines = readFileSync(paths.results, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const recorded = lines.filter((m) => m.type === 'result').map((m) => m.frame_id);
    const received = peer.messages.filter((m) => m.type === 'result').map((m) => m.frame_id);
    assert.ok(received.length >= 20);
    assert.deepEqual(recorded, received);
    assert.ok(
      lines.some((m) => m.type === 'audio_level'),
      'audio events recorded too',
    );
    assert.ok(existsSync(join(dir, `${id}.json`)));
  });

  test('without --record-dir, record: true is a 400 recording_unavailable; with --record all every session is recorded', async () => {
    const plain = await start([]);
    const p1 = new NodePeer();
    peers.push(p1);
    const r = await plain.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await p1.offer(), type: 'offer', record: true }),
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error.code, 'recording_unavailable');

    const all = await start(['--record-dir', dir, '--record', 'all']);
    const { peer, id } = await openNodeSession(all.app, KEY, peers, {});
    peer.startSending(readPngAsI420(astronautPng), 15);
    await sleep(1500);
    peer.stopSending();
    const session = all.sessions.get(id)!;
    all.sessions.end(id, 'deleted');
    const summary = (await session.recordingDone)!;
    assert.ok(summary.paths.media && probe(summary.paths.media).streams.join() === 'video');
    assert.ok(summary.stats.videoFrames >= 10);
  });
});
