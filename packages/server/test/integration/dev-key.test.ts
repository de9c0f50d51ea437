import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { startServerProcess } from '../helpers/server-process.js';

/**
 * The generated development key (no SIGHTLINE_API_KEYS) reaches only the demo page loaded from this machine: a
 * same-origin request from loopback to a loopback host name, with no proxy header. DNS rebinding (a foreign Host
 * name the browser calls same-origin) and requests relayed by a local proxy get the config without it.
 */
describe('the dev key is handed only to same-origin loopback pages', () => {
  let server: SightlineServer;
  before(async () => {
    server = await createServer(loadConfig(['--workers', '1', '--log-level', 'silent'], {}));
  });
  after(async () => {
    await server.close();
  });

  const config = async (headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    (await server.app.inject({ method: 'GET', url: '/demo-config.json', headers, remoteAddress })).json() as { devKey?: string };

  test('the demo page on localhost, 127.0.0.1 or [::1] gets it', async () => {
    assert.ok(server.devKey);
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'localhost']) {
      assert.equal((await config({ host, 'sec-fetch-site': 'same-origin' })).devKey, server.devKey, host);
    }
    // A request that is not from a page at all (curl on this machine) gets it too.
    assert.equal((await config({ host: 'localhost:8080' })).devKey, server.devKey);
  });

  test('DNS rebinding, proxies, other sites and other machines get no key', async () => {
    const cases: Array<[string, Record<string, string>, string?]> = [
      ['a rebinding page (foreign Host, same-origin)', { host: 'evil.example:8080', 'sec-fetch-site': 'same-origin' }],
      ['a foreign Host that starts like localhost', { host: 'localhost.evil.example', 'sec-fetch-site': 'same-origin' }],
      ['X-Forwarded-For from a local proxy', { host: 'localhost:8080', 'sec-fetch-site': 'same-origin', 'x-forwarded-for': '203.0.113.9' }],
      ['X-Forwarded-Host', { host: 'localhost:8080', 'x-forwarded-host': 'sightline.example.com' }],
      ['Forwarded (RFC 7239)', { host: 'localhost:8080', forwarded: 'for=203.0.113.9' }],
      ['a cross-site page', { host: 'localhost:8080', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
      ['another machine', { host: 'localhost:8080', 'sec-fetch-site': 'same-origin' }, '192.0.2.7'],
    ];
    for (const [name, headers, from] of cases) {
      const c = await config(headers, from);
      assert.equal(c.devKey, undefined, name);
    }
  });
});

describe('keys in query strings are redacted from the request log', () => {
  test('a debug-level server logs /?key=… with the value replaced', async () => {
    const server = await startServerProcess([], { SIGHTLINE_API_KEYS: 'the-real-key', SIGHTLINE_LOG_LEVEL: 'debug' });
    try {
      await fetch(`${server.url}/healthz?key=the-real-key&x=1`);
      await fetch(`${server.url}/webrtc/ice-servers?api_key=the-real-key`);
      const deadline = Date.now() + 5000;
      while (!server.output().includes('api_key=[REDACTED]') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(server.output(), /"url":"\/healthz\?key=\[REDACTED\]&x=1"/);
      assert.match(server.output(), /api_key=\[REDACTED\]/);
      assert.doesNotMatch(server.output(), /the-real-key/);
    } finally {
      await server.stop();
    }
  });
});
