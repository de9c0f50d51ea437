import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ERROR_STATUS, ErrorBody, type ErrorCode } from '@sightline/protocol';
import type nodeDataChannel from 'node-datachannel';
import WebSocket from 'ws';
import { MAX_PARAM_CHARS } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { MAX_TRICKLE_CANDIDATES } from '../../src/engine/sdp-check.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { unansweredWhepOffer } from '../helpers/raw-clients.js';
import { NodePeer, openNodeSession } from '../helpers/node-peer.js';

const KEY = 'shape-key';
const SDPFRAG = 'application/trickle-ice-sdpfrag';

/** An HTTP answer read off a raw socket. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after answering. */
  closed: boolean;
}

/**
 * Sends `request` as it is on a new TCP connection (what `inject` and HTTP clients would not send: bad escapes,
 * oversized request lines, garbage) and reads one answer; `closed` says whether the server then closed the socket.
 */
function rawHttp(port: number, request: string | Array<string | (() => Promise<void>)>, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let answer: Omit<RawAnswer, 'closed'> | undefined;
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      if (answer) resolve({ ...answer, closed });
      else reject(new Error(`no complete answer (${closed ? 'closed' : 'timed out'}): ${JSON.stringify(data.toString('latin1').slice(0, 300))}`));
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0 || answer) return;
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).trim().toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return;
      answer = { status: Number(statusLine!.split(' ')[1]), headers, body: data.subarray(end + 4, end + 4 + length).toString('utf8') };
      // Wait a moment for the server to close (or not).
      setTimeout(() => finish(socket.readableEnded || socket.destroyed), 200);
    });
    socket.on('end', () => answer && finish(true));
    socket.on('error', () => finish(true));
    // Parts are written in turn; a function between them is awaited first (to act while the request is half sent).
    void (async () => {
      for (const p of Array.isArray(request) ? request : [request]) {
        if (typeof p === 'string') socket.write(p);
        else await p();
      }
    })();
  });
}

/** The answer is `{"error": {"code", "message"}}` with `code`, its status from the one table, and JSON content. */
function assertErrorShape(res: { status: number; headers: Record<string, unknown>; body: string }, status: number, code: ErrorCode): { message: string } {
  assert.equal(ERROR_STATUS[code], status, `${code} has status ${status} in ERROR_STATUS`);
  assert.equal(res.status, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const parsed = ErrorBody.parse(JSON.parse(res.body));
  assert.equal(parsed.error.code, code, res.body);
  assert.ok(parsed.error.message.length > 0);
  return parsed.error;
}

const injected = (r: { statusCode: number; headers: Record<string, unknown>; body: string }) => ({ status: r.statusCode, headers: r.headers, body: r.body });

/** A trickle fragment with `n` host candidates (documentation addresses: nothing is ever reached). */
const fragment = (n: number): string =>
  `a=mid:0\r\n${Array.from({ length: n }, (_, i) => `a=candidate:${i + 1} 1 UDP 2122252543 192.0.2.${(i % 250) + 1} ${40000 + i} typ host\r\n`).join('')}`;

/** What a refused WebSocket receives: the error message, then the close code. */
interface WsRefusal {
  message: { type: string; code: string; message: string };
  closeCode: number;
}

function wsRefusal(url: string, opts: { headers?: Record<string, string>; send?: string } = {}): Promise<WsRefusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: opts.headers ?? {} });
    let message: WsRefusal['message'] | undefined;
    ws.on('open', () => opts.send !== undefined && ws.send(opts.send));
    ws.on('message', (data) => (message ??= JSON.parse(String(data)) as WsRefusal['message']));
    ws.on('close', (closeCode) => (message ? resolve({ message, closeCode }) : reject(new Error(`closed ${closeCode} without a message`))));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

/** A WebSocket upgrade refused before it happened: its HTTP status and body (a browser sees only the failure). */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    ws.on('error', () => undefined);
  });
}

/** Tracks are kept until the end: node-datachannel crashes if one is collected before it closed. */
const tracks: nodeDataChannel.Track[] = [];

const viewerOffer = (pcs: nodeDataChannel.PeerConnection[]): Promise<string> => unansweredWhepOffer({ pcs, tracks });

describe('every error has the error shape: router and HTTP-parser refusals, WebSocket routes, query strings, trickle bounds', () => {
  let server: SightlineServer;
  let port: number;
  let wsUrl: string;
  const peers: NodePeer[] = [];
  const pcs: nodeDataChannel.PeerConnection[] = [];

  const errorsTotal = async (code: string): Promise<number> => {
    const line = (await server.metrics.metrics()).split('\n').find((l) => l.startsWith(`sightline_errors_total{code="${code}"} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  /** Runs `fn`, then checks that `sightline_errors_total` grew by `expected` for each code. */
  const counted = async (expected: Partial<Record<ErrorCode, number>>, fn: () => Promise<void>): Promise<void> => {
    const codes = Object.keys(expected) as ErrorCode[];
    const before = await Promise.all(codes.map(errorsTotal));
    await fn();
    const afterwards = await Promise.all(codes.map(errorsTotal));
    codes.forEach((c, i) => assert.equal(afterwards[i]! - before[i]!, expected[c], `sightline_errors_total{code="${c}"} grew by ${expected[c]}`));
  };
  /** Ends these sessions and waits until none is left (WebSocket sessions end with their socket). */
  const endAll = async (ids: string[] = []): Promise<void> => {
    for (const id of ids) server.sessions.end(id, 'deleted');
    const deadline = Date.now() + 5000;
    while (server.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  before(async () => {
    server = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--max-sessions', '2', '--port', '0', '--host', '127.0.0.1'], { SIGHTLINE_API_KEYS: KEY }),
    );
    const address = await server.listen();
    port = Number(new URL(address).port);
    wsUrl = address.replace(/^http/, 'ws');
  });
  after(async () => {
    for (const p of peers) p.close();
    for (const t of tracks) t.close();
    for (const pc of pcs) pc.close();
    await server.close();
  });

  test('a path with a bad %-escape is 400 bad_request (the router refuses it before any route), counted', async () => {
    await counted({ bad_request: 3 }, async () => {
      for (const [method, path] of [
        ['GET', '/webrtc/sessions/%E0%A4%A'],
        ['DELETE', '/whip/%ff'],
        ['GET', '/v1/sessions/%E0%A4%A/results?limit=1'],
      ] as const) {
        const res = await rawHttp(port, `${method} ${path} HTTP/1.1\r\nHost: localhost\r\napi-key: ${KEY}\r\nConnection: close\r\n\r\n`);
        const e = assertErrorShape(res, 400, 'bad_request');
        assert.match(e.message, /does not decode/);
      }
    });
  });

  test(`a path parameter over ${MAX_PARAM_CHARS} characters is 414 uri_too_long; up to ${MAX_PARAM_CHARS} the route answers`, async () => {
    await counted({ uri_too_long: 2 }, async () => {
      for (const url of [`/webrtc/sessions/${'a'.repeat(MAX_PARAM_CHARS + 1)}`, `/sessions/${'b'.repeat(300)}/whep/x`]) {
        const r = await server.app.inject({ method: 'DELETE', url, headers: { 'api-key': KEY } });
        assert.match(assertErrorShape(injected(r), 414, 'uri_too_long').message, new RegExp(`longer than ${MAX_PARAM_CHARS} characters`));
      }
    });
    // Over Fastify's default (100) but within the schemas' 256: the route itself says the session is not there.
    for (const n of [150, MAX_PARAM_CHARS]) {
      const r = await server.app.inject({ method: 'DELETE', url: `/webrtc/sessions/${'a'.repeat(n)}`, headers: { 'api-key': KEY } });
      assert.equal(r.statusCode, 404, r.body);
      assert.match(r.json().error.code, /not_found/);
    }
  });

  test("a request line past Node's header size limit is 414 uri_too_long, headers past it 431 headers_too_large; then the connection closes", async () => {
    await counted({ uri_too_long: 1, headers_too_large: 1 }, async () => {
      const long = await rawHttp(port, `GET /webrtc/sessions/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      assertErrorShape(long, 414, 'uri_too_long');
      assert.equal(long.headers.connection, 'close');
      assert.ok(long.closed, 'the connection is closed');
      const big = await rawHttp(port, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nx-big: ${'h'.repeat(20_000)}\r\n\r\n`);
      assertErrorShape(big, 431, 'headers_too_large');
      assert.ok(big.closed, 'the connection is closed');
    });
  });

  test('a request the HTTP parser cannot read is 400 bad_request, then the connection closes', async () => {
    await counted({ bad_request: 2 }, async () => {
      for (const request of ['HELLO / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'GET / HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n']) {
        const res = await rawHttp(port, request);
        assert.match(assertErrorShape(res, 400, 'bad_request').message, /HTTP parser/);
        assert.ok(res.closed);
      }
    });
  });

  test('a WebSocket route asked for without an upgrade is 426 upgrade_required with Upgrade: websocket (was an empty 404)', async () => {
    await counted({ upgrade_required: 3, missing_api_key: 1 }, async () => {
      for (const url of ['/ws', '/ws?processor=stats&user_id=u']) {
        const r = await server.app.inject({ method: 'GET', url, headers: { 'api-key': KEY } });
        assert.match(assertErrorShape(injected(r), 426, 'upgrade_required').message, /^\/ws: .*WebSocket upgrade/);
        assert.equal(r.headers.upgrade, 'websocket');
      }
      // The session's own WebSocket: its key first (401 without), then the upgrade.
      const noKey = await server.app.inject({ method: 'GET', url: '/sessions/some-id/ws' });
      assertErrorShape(injected(noKey), 401, 'missing_api_key');
      const plain = await server.app.inject({ method: 'GET', url: '/sessions/some-id/ws', headers: { 'api-key': KEY } });
      assertErrorShape(injected(plain), 426, 'upgrade_required');
    });
    const head = await server.app.inject({ method: 'HEAD', url: '/ws' });
    assert.equal(head.statusCode, 426);
    assert.equal(head.headers.upgrade, 'websocket');
  });

  test('an upgrade that ws would refuse in plain text (bad key, version, Upgrade) is refused in the error shape', async () => {
    const upgrade = (headers: string) => rawHttp(port, `GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n${headers}\r\n`);
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    await counted({ bad_request: 2, upgrade_required: 2 }, async () => {
      assert.match(assertErrorShape(await upgrade('Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'), 400, 'bad_request').message, /Sec-WebSocket-Key/);
      assertErrorShape(
        await upgrade(`Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Protocol: a b\r\n`),
        400,
        'bad_request',
      );
      const version = await upgrade(`Upgrade: websocket\r\nSec-WebSocket-Version: 12\r\nSec-WebSocket-Key: ${key}\r\n`);
      assertErrorShape(version, 426, 'upgrade_required');
      assert.equal(version.headers['sec-websocket-version'], '13');
      assertErrorShape(await upgrade(`Upgrade: h2c\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`), 426, 'upgrade_required');
    });
    // A good handshake still opens (and, without a key, waits for hello).
    const ok = await upgrade(`Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`);
    assert.equal(ok.status, 101);
  });

  test('WebSocket refusals (auth, hello, processor, capacity, unknown session) are counted in sightline_errors_total by code', async () => {
    await counted({ invalid_api_key: 1, missing_api_key: 1, invalid_message: 2, unknown_processor: 1, at_capacity: 1, not_found: 1 }, async () => {
      const badKey = await wsRefusal(`${wsUrl}/ws`, { headers: { 'api-key': 'nope' } });
      assert.deepEqual([badKey.message.code, badKey.closeCode], ['invalid_api_key', 4403]);
      const noKey = await wsRefusal(`${wsUrl}/ws`, { send: JSON.stringify({ type: 'hello' }) });
      assert.deepEqual([noKey.message.code, noKey.closeCode], ['missing_api_key', 4401]);
      const notJson = await wsRefusal(`${wsUrl}/ws`, { send: 'hello?' });
      assert.deepEqual([notJson.message.code, notJson.closeCode], ['invalid_message', 4400]);
      const longUser = await wsRefusal(`${wsUrl}/ws`, { send: JSON.stringify({ type: 'hello', api_key: KEY, user_id: 'u'.repeat(257) }) });
      assert.deepEqual([longUser.message.code, longUser.closeCode], ['invalid_message', 4400]);
      assert.match(longUser.message.message, /user_id/);
      const badProcessor = await wsRefusal(`${wsUrl}/ws?processor=No!`, { headers: { 'api-key': KEY } });
      assert.deepEqual([badProcessor.message.code, badProcessor.closeCode], ['unknown_processor', 4400]);

      // --max-sessions 2: two bridged sessions, the third is refused.
      const open: WebSocket[] = [];
      for (let i = 0; i < 2; i++) {
        const ws = new WebSocket(`${wsUrl}/ws?processor=stats`, { headers: { 'api-key': KEY } });
        open.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('message', (m) => (JSON.parse(String(m)).type === 'ready' ? resolve() : reject(new Error(String(m)))));
          ws.once('error', reject);
        });
      }
      const full = await wsRefusal(`${wsUrl}/ws?processor=stats`, { headers: { 'api-key': KEY } });
      assert.deepEqual([full.message.code, full.closeCode], ['at_capacity', 4503]);
      for (const ws of open) ws.close();
      await endAll();

      const unknown = await wsRefusal(`${wsUrl}/sessions/no-such-session/ws`, { headers: { 'api-key': KEY } });
      assert.deepEqual([unknown.message.code, unknown.closeCode], ['not_found', 4404]);
    });
  });

  test('a repeated query parameter is a 400 naming it on every route that reads a query; /ws refuses it before the upgrade', async () => {
    const auth = { 'api-key': KEY };
    for (const url of [
      '/v1/sessions?user_id=a&user_id=b',
      '/v1/sessions?limit=1&limit=2',
      '/v1/sessions?cursor=a&cursor=b&limit=5',
      '/v1/sessions/some-id/results?after=a&after=b',
      '/v1/sessions/some-id/events?limit=1&limit=1',
    ]) {
      const r = await server.app.inject({ method: 'GET', url, headers: auth });
      assert.match(assertErrorShape(injected(r), 400, 'invalid_body').message, /^query: parameter "(user_id|limit|cursor|after)" is given 2 times/, url);
    }
    for (const query of ['processor=stats&processor=face', 'params=%7B%7D&params=%7B%7D']) {
      const r = await server.app.inject({
        method: 'POST',
        url: `/whip?${query}`,
        headers: { ...auth, 'content-type': 'application/sdp' },
        payload: 'v=0\r\n',
      });
      assert.match(assertErrorShape(injected(r), 400, 'invalid_body').message, /^query: parameter "(processor|params)" is given 2 times/);
    }
    for (const query of ['user_id=a&user_id=b', 'processor=stats&processor=face', 'user_id=a&user_id=a&user_id=a']) {
      const r = await refusedUpgrade(`${wsUrl}/ws?${query}`, auth);
      assert.match(assertErrorShape(r, 400, 'invalid_body').message, /^query: parameter "(user_id|processor)" is given [23] times/);
    }
    // The demo page's `?key=` is read by the page, not the server: a repeated one is no server error.
    for (const url of ['/?key=a&key=b', '/demo-config.json?key=a&key=b']) assert.ok((await server.app.inject(url)).statusCode < 400, url);
    assert.equal(server.sessions.size, 0, 'no session was opened');
  });

  test('user_id over 256 characters is refused on every way in (the /ws query before the upgrade, history, offer)', async () => {
    const long = 'u'.repeat(257);
    const ws = await refusedUpgrade(`${wsUrl}/ws?processor=stats&user_id=${long}`, { 'api-key': KEY });
    assert.match(assertErrorShape(ws, 400, 'invalid_body').message, /user_id/);
    const history = await server.app.inject({ method: 'GET', url: `/v1/sessions?user_id=${long}`, headers: { 'api-key': KEY } });
    assert.match(assertErrorShape(injected(history), 400, 'invalid_body').message, /user_id/);
    const offer = await server.app.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      payload: JSON.stringify({ sdp: 'v=0', type: 'offer', user_id: long }),
    });
    assert.match(assertErrorShape(injected(offer), 400, 'invalid_body').message, /user_id/);
    // 256 is fine.
    const ok = new WebSocket(`${wsUrl}/ws?processor=stats&user_id=${'u'.repeat(256)}`, { headers: { 'api-key': KEY } });
    const ready = await new Promise<{ type: string }>((resolve, reject) => {
      ok.once('message', (m) => resolve(JSON.parse(String(m)) as { type: string }));
      ok.once('error', reject);
    });
    assert.equal(ready.type, 'ready');
    ok.close();
    await endAll();
  });

  test(`a trickle PATCH carries at most ${MAX_TRICKLE_CANDIDATES} candidates (400 invalid_sdp naming the limit) on /webrtc/sessions/:id, WHIP and WHEP`, async () => {
    const tooMany = fragment(MAX_TRICKLE_CANDIDATES + 1);
    const patch = (url: string, payload: string) => server.app.inject({ method: 'PATCH', url, headers: { 'api-key': KEY, 'content-type': SDPFRAG }, payload });
    const refused = (r: Awaited<ReturnType<typeof patch>>) =>
      assert.match(
        assertErrorShape(injected(r), 400, 'invalid_sdp').message,
        new RegExp(`${MAX_TRICKLE_CANDIDATES + 1} candidates; at most ${MAX_TRICKLE_CANDIDATES} are accepted in one PATCH`),
      );

    const { id } = await openNodeSession(server.app, KEY, peers, { processor: 'stats' });
    const whipPeer = new NodePeer({ channel: false });
    peers.push(whipPeer);
    const whip = await server.app.inject({
      method: 'POST',
      url: '/whip?processor=stats',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/sdp' },
      payload: await whipPeer.offer(),
    });
    assert.equal(whip.statusCode, 201, whip.body);
    const whep = await server.app.inject({
      method: 'POST',
      url: `/sessions/${id}/whep`,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/sdp' },
      payload: await viewerOffer(pcs),
    });
    assert.equal(whep.statusCode, 201, whep.body);

    await counted({ invalid_sdp: 3 }, async () => {
      for (const url of [`/webrtc/sessions/${id}`, whip.headers.location as string, whep.headers.location as string]) refused(await patch(url, tooMany));
    });
    // The limit itself is accepted.
    const atLimit = fragment(MAX_TRICKLE_CANDIDATES);
    assert.equal((await patch(`/webrtc/sessions/${id}`, atLimit)).statusCode, 200);
    assert.equal((await patch(whip.headers.location as string, atLimit)).statusCode, 204);
    assert.equal((await patch(whep.headers.location as string, atLimit)).statusCode, 204);
    await endAll([id, String(whip.headers.location).split('/').pop()!]);
  });

  test("while the server closes, a request still arriving gets 503 not_ready in the error shape (not Fastify's own 503 body)", async () => {
    const other = await createServer(
      loadConfig(['--workers', '1', '--log-level', 'silent', '--port', '0', '--host', '127.0.0.1'], { SIGHTLINE_API_KEYS: KEY }),
    );
    const otherPort = Number(new URL(await other.listen()).port);
    let closed: Promise<void> | undefined;
    // A request begun before the close (its connection is not idle, so the close waits for it) and finished after.
    const res = await rawHttp(otherPort, [
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\n',
      async () => {
        await new Promise((r) => setTimeout(r, 100));
        closed = other.close();
        // The HTTP server stops listening once the app's preClose hooks (which mark it closing) have run.
        while (other.app.server.listening) await new Promise((r) => setTimeout(r, 10));
      },
      '\r\n',
    ]);
    await closed;
    assert.match(assertErrorShape(res, 503, 'not_ready').message, /shutting down/);
    assert.equal(res.headers.connection, 'close');
  });
});
