import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { announceIp } from '../../src/engine/announce-ip.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { NodePeer } from '../helpers/node-peer.js';

describe("the server's own ICE settings: UDP port range and announced IP", () => {
  let server: SightlineServer;
  const peers: NodePeer[] = [];
  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--rtc-port-min', '41000', '--rtc-port-max', '41100', '--announced-ip', '203.0.113.7'], {
        SIGHTLINE_API_KEYS: 'k',
      }),
    );
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test('answers carry host candidates on the announced IP, with ports inside the range', async () => {
    const peer = new NodePeer();
    peers.push(peer);
    const r = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': 'k' },
      payload: JSON.stringify({ sdp: await peer.offer(), type: 'offer', processor: 'null' }),
    });
    assert.equal(r.statusCode, 200, r.body);
    const hosts = [...String(r.json().sdp).matchAll(/^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host/gim)];
    const v4 = hosts.filter((m) => m[1]!.includes('.'));
    assert.ok(v4.length > 0, 'IPv4 host candidates');
    for (const m of v4) {
      assert.equal(m[1], '203.0.113.7');
      assert.ok(Number(m[2]) >= 41000 && Number(m[2]) <= 41100, `port ${m[2]}`);
    }
  });

  test('announceIp rewrites only IPv4 host candidates', () => {
    const sdp =
      'a=candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0\r\na=candidate:2 1 udp 1686052607 198.51.100.1 50001 typ srflx raddr 10.0.0.5 rport 50000\r\n';
    assert.equal(announceIp(sdp, '203.0.113.7'), sdp.replace('10.0.0.5 50000 typ host', '203.0.113.7 50000 typ host'));
  });

  test('bad ICE options are clear errors', () => {
    assert.throws(() => loadConfig(['--rtc-port-min', '50000', '--rtc-port-max', '40000'], {}), ConfigError);
    assert.throws(() => loadConfig(['--announced-ip', 'example.com'], {}), ConfigError);
    assert.throws(() => loadConfig(['--rtc-port', '41000', '--rtc-port-min', '41000', '--rtc-port-max', '41100'], {}), /excludes --rtc-port-min/);
    assert.throws(() => loadConfig(['--rtc-port', '80'], {}), ConfigError);
  });
});

describe('--rtc-port: every session on one UDP port (ICE UDP mux)', () => {
  const PORT = 41_321;
  let server: SightlineServer;
  const peers: NodePeer[] = [];
  before(async () => {
    server = await createServer(loadConfig(['--workers', '1', '--log-level', 'silent', '--rtc-port', String(PORT)], { SIGHTLINE_API_KEYS: 'k' }));
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  test('three concurrent sessions answer host candidates on that port, and each gets its own results', async () => {
    const sessions = await Promise.all(
      [40, 120, 200].map(async (luma) => {
        const peer = new NodePeer();
        peers.push(peer);
        const r = await server.app.inject({
          method: 'POST',
          url: '/webrtc/offer',
          headers: { 'content-type': 'application/json', 'api-key': 'k' },
          payload: JSON.stringify({ sdp: await peer.offer(), type: 'offer', processor: 'stats' }),
        });
        assert.equal(r.statusCode, 200, r.body);
        const ports = [...String(r.json().sdp).matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gim)].map((m) => Number(m[1]));
        assert.ok(ports.length > 0 && ports.every((p) => p === PORT), `host candidate ports ${ports.join(', ')}`);
        await peer.accept(r.json().sdp);
        await peer.channelOpen();
        const frame = { width: 320, height: 240, data: new Uint8Array(320 * 240 * 1.5).fill(128) };
        frame.data.fill(luma, 0, 320 * 240);
        peer.startSending(frame, 30);
        return { peer, luma };
      }),
    );
    for (const { peer, luma } of sessions) {
      // The stats processor reports each session's own mean luma: no session got another's packets.
      const m = await peer.waitFor((x) => x.type === 'result' && Math.abs(((x.data as { mean_luma: number }).mean_luma ?? -1) - luma) < 6);
      assert.ok(m);
      peer.stopSending();
    }
  });
});

describe('OPTIONS /whip (WHIP ICE server discovery)', () => {
  test('STUN servers for anyone; TURN credentials only with a valid key (a preflight has none)', async () => {
    const server = await createServer(
      loadConfig(
        [
          '--workers',
          '1',
          '--log-level',
          'silent',
          '--stun-urls',
          'stun:stun.example.org:3478',
          '--turn-urls',
          'turn:turn.example.org:3478',
          '--turn-secret',
          'shh',
        ],
        { SIGHTLINE_API_KEYS: 'k' },
      ),
    );
    try {
      const links = async (headers: Record<string, string>) =>
        String((await server.app.inject({ method: 'OPTIONS', url: '/whip', headers })).headers.link ?? '');
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { origin: 'https://evil.example', 'access-control-request-method': 'POST' }]) {
        const l = await links(headers);
        assert.match(l, /<stun:stun\.example\.org:3478>; rel="ice-server"/);
        assert.doesNotMatch(l, /turn:|credential/, JSON.stringify(headers));
      }
      assert.match(await links({ authorization: 'Bearer k' }), /<turn:turn\.example\.org:3478>; rel="ice-server"; username="\d+:[^"]+"; credential="[^"]+"/);
    } finally {
      await server.close();
    }
  });
});
