import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { ensurePanClip, onClipFace } from '../helpers/clip.js';
import { startCoturn, type Coturn } from '../helpers/coturn.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { turnCredentials } from '../../src/api/turn-credentials.js';

const KEY = 'turn-key';
const SECRET = 'coturn-shared-secret';

/** Relay candidates Chromium gathers with these TURN credentials (0 when coturn refuses them). */
async function relayCandidates(page: Page, server: { urls: string; username: string; credential: string }): Promise<number> {
  return page.evaluate(async (ice) => {
    const pc = new RTCPeerConnection({ iceServers: [ice], iceTransportPolicy: 'relay' });
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
      setTimeout(resolve, 8000);
    });
    const n = (pc.localDescription!.sdp.match(/ typ relay/g) ?? []).length;
    pc.close();
    return n;
  }, server);
}

describe('TURN with ephemeral credentials (Debian coturn, use-auth-secret)', { timeout: 120_000 }, () => {
  let turn: Coturn;
  let server: ServerProcess;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let turnUrl: string;

  before(async () => {
    turn = await startCoturn(['--use-auth-secret', `--static-auth-secret=${SECRET}`]);
    turnUrl = `turn:127.0.0.1:${turn.port}?transport=udp`;
    server = await startServerProcess(['--turn-urls', turnUrl, '--turn-secret', SECRET, '--turn-ttl', '600'], { SIGHTLINE_API_KEYS: KEY });
    browser = await launchChromium(ensurePanClip());
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await turn?.stop();
  });

  test('GET /webrtc/ice-servers hands out TURN REST credentials that expire after the TTL', async () => {
    const r = await fetch(`${server.url}/webrtc/ice-servers`, { headers: { 'api-key': KEY } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const body = (await r.json()) as { iceServers: Array<{ urls: string[]; username: string; credential: string }>; ttl: number; expires_at: number };
    assert.equal(body.ttl, 600);
    const ice = body.iceServers[0]!;
    assert.deepEqual(ice.urls, [turnUrl]);
    const [expiry, tag] = ice.username.split(':');
    assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 5);
    assert.ok(tag && !tag.includes(KEY), 'the tag is the key id, not the key');
  });

  test('relay-only: a Chromium session with the served credentials boxes the face over a relay candidate pair', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
    const out = await page.evaluate(async (key) => {
      const s = await (window as any).sightline.connect({
        url: location.origin,
        apiKey: key,
        iceTransportPolicy: 'relay',
        media: { video: { width: 640, height: 480 } },
      });
      const results: any[] = [];
      s.on('result', (e: any) => results.push(e.message));
      await new Promise((r) => setTimeout(r, 4000));
      const stats = await s.pc.getStats();
      let pair: any;
      stats.forEach((r: any) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
      });
      const local = pair ? stats.get(pair.localCandidateId) : undefined;
      await s.close();
      return { results, localType: local?.candidateType, relayProtocol: local?.relayProtocol };
    }, KEY);
    assert.equal(out.localType, 'relay', 'the selected candidate pair is a relay pair');
    assert.ok(out.results.length >= 30, `${out.results.length} results over TURN`);
    const onFace = out.results.filter((r: any) => r.boxes.length === 1 && onClipFace(r.boxes[0].box, r.width));
    assert.ok(onFace.length / out.results.length >= 0.9, `${onFace.length}/${out.results.length} results box the face`);
    await page.close();
  });

  test('forged and expired credentials get no relay from coturn; valid ones do', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?key=${KEY}`);
    const valid = turnCredentials(SECRET, 600, 'test', Date.now());
    const forged = turnCredentials('not-the-secret', 600, 'test', Date.now());
    const expired = turnCredentials(SECRET, 60, 'test', Date.now() - 3600_000);
    assert.ok((await relayCandidates(page, { urls: turnUrl, username: valid.username, credential: valid.credential })) >= 1);
    assert.equal(await relayCandidates(page, { urls: turnUrl, username: forged.username, credential: forged.credential }), 0);
    assert.equal(await relayCandidates(page, { urls: turnUrl, username: expired.username, credential: expired.credential }), 0);
    await page.close();
  });
});
