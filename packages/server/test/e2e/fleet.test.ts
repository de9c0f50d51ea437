/**
 * A fleet as the docs deploy it (docs/SCALING.md): three media nodes (`sightline serve` processes) sharing Redis and
 * PostgreSQL behind HAProxy (deploy/haproxy.cfg, round robin, no stickiness), and one inference node (`sightline
 * infer-server`) that computes every face box over KServe v2. Clients the project did not write where it matters:
 * Chromium running the demo page, the seed's Python client; the Node SDK and plain HTTP for the rest. Then the
 * faults: the inference node SIGKILLed and restarted, a media node SIGKILLed, another SIGTERMed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { NodeClient, type NodeResult } from '@sightline/node';
import { launchChromium } from '../helpers/chromium.js';
import { CLIP, ensurePanClip, onClipFace } from '../helpers/clip.js';
import { startCoturn, type Coturn } from '../helpers/coturn.js';
import { startHaproxy, type TestHaproxy } from '../helpers/haproxy.js';
import { iou, readPngAsI420 } from '../helpers/images.js';
import { startInferServerProcess, type InferServerProcess } from '../helpers/infer-server-process.js';
import { artifactsDir, ASTRONAUT_FACE, astronautPng, repoRoot } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { connectWhepViewer, connectWhip } from '../helpers/raw-clients.js';
import { seedClientWithReadmeEdits } from '../helpers/readme-blocks.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'fleet-key';
const LIMITED = 'limited-key';
const FORWARDED_BY = 'x-sightline-forwarded-by';
const LEASE_MS = 3000;
const FRAME = readPngAsI420(astronautPng);

type Result = { frame_id: number; boxes: Array<{ class: string; box: [number, number, number, number] }>; width: number; height: number };

/** A Node SDK session sending the astronaut at `fps`, keeping what comes back. */
interface Streaming {
  client: NodeClient;
  results: NodeResult[];
  errors: { code: string; message: string; at: number }[];
  stop(): Promise<void>;
}

async function stream(url: string, key = KEY, fps = 8): Promise<Streaming> {
  const client = await NodeClient.connect({ url, apiKey: key });
  const results: NodeResult[] = [];
  const errors: Streaming['errors'] = [];
  client.onResult = (r) => results.push(r);
  client.onError = (e) => errors.push({ ...e, at: performance.now() });
  const timer = setInterval(() => client.send(FRAME), 1000 / fps);
  return {
    client,
    results,
    errors,
    stop: async () => {
      clearInterval(timer);
      await client.close();
    },
  };
}

const boxesTheFace = (r: NodeResult): boolean =>
  (r.message.boxes as Array<{ box: [number, number, number, number] }>).some(({ box: [x, y, w, h] }) => iou({ x, y, w, h }, ASTRONAUT_FACE) >= 0.5);

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(50);
  }
  return performance.now() - t0;
}

const auth = { 'api-key': KEY };

describe('a fleet: three media nodes behind HAProxy, an inference node, Redis and PostgreSQL', { timeout: 600_000 }, () => {
  let redis: TestRedis;
  let pg: TestPostgres;
  let turn: Coturn;
  let infer: InferServerProcess;
  let inferPort: number;
  let haproxy: TestHaproxy;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const nodes: ServerProcess[] = [];
  const live: Streaming[] = [];

  /** The node holding a session: the one that answers for it itself (a forwarded-by header stops forwarding). */
  async function ownerOf(sessionId: string): Promise<ServerProcess | undefined> {
    for (const n of nodes) {
      if (n.proc.exitCode !== null || n.proc.signalCode !== null) continue;
      const ctl = new AbortController();
      const res = await fetch(`${n.url}/sessions/${sessionId}/events`, { headers: { ...auth, [FORWARDED_BY]: 'test' }, signal: ctl.signal }).catch(
        () => undefined,
      );
      ctl.abort();
      if (res?.status === 200) return n;
    }
    return undefined;
  }

  before(async () => {
    [redis, pg, turn] = await Promise.all([startRedis(), startPostgres(), startCoturn(['--no-auth'])]);
    inferPort = await freePort();
    infer = await startInferServerProcess(inferPort, ['--workers', '1']);
    const dir = mkdtempSync(join(tmpdir(), 'sightline-fleet-'));
    const keys = join(dir, 'keys.yaml');
    writeFileSync(keys, `keys:\n  - key: ${KEY}\n    name: fleet\n  - key: ${LIMITED}\n    name: limited\n    max_sessions: 2\n`);
    for (let i = 1; i <= 3; i++) {
      const port = await freePort();
      nodes.push(
        await startServerProcess(
          [
            '--port',
            String(port),
            '--node-id',
            `media${i}`,
            '--advertise-url',
            `http://127.0.0.1:${port}`,
            '--redis-url',
            redis.url,
            '--keys-file',
            keys,
            '--workers',
            '1',
            '--model',
            `faces=kserve+http://127.0.0.1:${inferPort}/blazeface-back@blazeface`,
            '--processor',
            'detect',
            '--fleet-lease-ms',
            String(LEASE_MS),
            '--drain-timeout-ms',
            '6000',
            '--db-flush-interval-ms',
            '200',
          ],
          { DATABASE_URL: pg.url },
        ),
      );
    }
    haproxy = await startHaproxy(
      readFileSync(`${repoRoot}deploy/haproxy.cfg`, 'utf8'),
      nodes.map((n, i) => ({ name: `media${i + 1}`, port: n.port })),
    );
    browser = await launchChromium(ensurePanClip());
  });

  after(async () => {
    await Promise.allSettled(live.map((s) => s.stop()));
    await browser?.close();
    const logs = artifactsDir('logs');
    nodes.forEach((n, i) => writeFileSync(`${logs}fleet-media${i + 1}.log`, n.output()));
    if (haproxy) writeFileSync(`${logs}fleet-haproxy.log`, haproxy.log());
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await haproxy?.stop();
    await infer?.kill();
    await Promise.allSettled([redis?.stop(), pg?.stop(), turn?.stop()]);
  });

  test('GET /v1/cluster through any node lists the three nodes', async () => {
    for (const n of nodes) {
      const res = await fetch(`${n.url}/v1/cluster`, { headers: auth });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { mode: string; nodes: Array<{ node_id: string; ready: boolean; url: string }> };
      assert.equal(body.mode, 'redis');
      assert.deepEqual(
        body.nodes.map((x) => x.node_id),
        ['media1', 'media2', 'media3'],
      );
      assert.ok(body.nodes.every((x) => x.ready));
    }
    assert.equal((await fetch(`${haproxy.url}/v1/cluster`)).status, 401);
  });

  let chromium: Page;
  let sdkSessions: Streaming[] = [];

  test('sessions through HAProxy spread over the nodes, and each gets face boxes computed by the inference node', async () => {
    // Chromium runs the demo page served through HAProxy; the SDK in it signals through HAProxy too.
    chromium = await browser.context.newPage();
    await chromium.goto(`${haproxy.url}/?key=${KEY}&autostart=1`);
    await chromium.waitForFunction(() => document.body.dataset.state === 'connected', undefined, { timeout: 30_000 });
    sdkSessions = [];
    for (let i = 0; i < 3; i++) sdkSessions.push(await stream(haproxy.url));
    live.push(...sdkSessions);

    // The seed's Python client (aiortc, through TURN) with only the README's edits, for the clip's length.
    const seed = spawn('/usr/bin/python3', [seedClientWithReadmeEdits()], {
      env: {
        ...process.env,
        API_KEY: KEY,
        SERVER_URL: `${haproxy.url}/webrtc/offer`,
        TURN_SERVER_URL: '127.0.0.1',
        TURN_SERVER_PORT: String(turn.port),
        CAMERA: ensurePanClip(),
        USER_ID: 'seed-fleet',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seedOut = '';
    seed.stdout.on('data', (d: Buffer) => (seedOut += d.toString()));
    seed.stderr.on('data', (d: Buffer) => (seedOut += d.toString()));
    const seedDone = new Promise((r) => seed.once('exit', r));
    // Python and aiortc take seconds to start on a busy machine: the clip's length counts from its first result.
    await until("the seed client's first result", () => seedOut.includes('[LATENCY]') || seed.exitCode !== null, 60_000);
    setTimeout(() => seed.kill('SIGINT'), (CLIP.seconds + 4) * 1000);
    await seedDone;
    writeFileSync(`${artifactsDir('logs')}fleet-seed-client.log`, seedOut);

    const seedRtts = [...seedOut.matchAll(/\[LATENCY\] Frame (\d+) RTT: ([\d.]+) ms/g)];
    assert.doesNotMatch(seedOut, /\[CLIENT\] (Server returned|Error during)/);
    // Two cores run three media nodes, the inference node, Chromium, aiortc and three H.264 encoders here: frames a
    // session can't keep up with are dropped (one in flight each) and counted (`frames_dropped`, checked below). The
    // 90 % bar is the single-node tests'; here every session must get face boxes, whichever node holds it.
    assert.ok(seedRtts.length >= 15, `seed client: ${seedRtts.length} RTT lines for ${CLIP.frames} frames`);

    const page = (await chromium.evaluate(() => (window as any).sightlineDemo.results)) as Result[];
    // `detect` keeps every box over its min_score: at the hinted 256x192 a second, smaller box now and then sits beside
    // the face (the `face` processor's own thresholds, which the single-node browser test holds to one box, are not in
    // play). What counts here is that the face is boxed, frame by frame, from the remote model's output.
    const onFace = page.filter((r) => r.boxes.some((b) => b.class === 'face' && onClipFace(b.box, r.width)));
    assert.ok(page.length >= 30, `Chromium: ${page.length} results`);
    const off = page.filter((r) => !onFace.includes(r)).map((r) => ({ frame_id: r.frame_id, width: r.width, boxes: r.boxes.map((b) => b.box) }));
    writeFileSync(`${artifactsDir('logs')}fleet-chromium-results.json`, JSON.stringify(page));
    assert.ok(onFace.length / page.length >= 0.9, `Chromium: ${onFace.length}/${page.length} results box the face; not: ${JSON.stringify(off.slice(0, 8))}`);

    for (const s of sdkSessions) {
      assert.ok(s.results.length >= 20, `SDK session ${s.client.sessionId}: ${s.results.length} results`);
      const good = s.results.filter(boxesTheFace).length;
      assert.ok(good / s.results.length >= 0.9, `SDK session: ${good}/${s.results.length} results box the face`);
    }
    // Round robin: the sessions are not all on one node.
    const counts = ((await (await fetch(`${haproxy.url}/v1/cluster`, { headers: auth })).json()) as { nodes: Array<{ sessions: number }> }).nodes.map(
      (n) => n.sessions,
    );
    assert.ok(counts.filter((c) => c > 0).length >= 2, `sessions per node: ${counts.join(', ')}`);
  });

  test('every session-scoped route works through every node: SSE, WebSocket, WHEP, trickle PATCH, WHIP PATCH/DELETE, DELETE', async () => {
    const s = sdkSessions[0]!;
    const id = s.client.sessionId;
    const owner = await ownerOf(id);
    assert.ok(owner, 'the session has an owner');
    for (const n of nodes) {
      const via = n === owner ? 'owner' : 'another node';
      // SSE: the first result event.
      const ctl = new AbortController();
      const res = await fetch(`${n.url}/sessions/${id}/events`, { headers: auth, signal: ctl.signal });
      assert.equal(res.status, 200, `SSE via ${via}`);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      while (!/event: result/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      ctl.abort();
      // WebSocket: the first result message.
      const ws = new WebSocket(`${n.url.replace('http', 'ws')}/sessions/${id}/ws`, { headers: auth });
      const first = await new Promise<{ type: string }>((resolve, reject) => {
        ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { type: string }));
        ws.once('error', reject);
        ws.once('unexpected-response', (_r, m) => reject(new Error(`WebSocket via ${via} refused: ${m.statusCode}`)));
      });
      ws.close();
      assert.ok(['result', 'capture_hint'].includes(first.type), `WebSocket via ${via}: ${first.type}`);
      // WHEP: a viewer gets the session's video, then DELETEs its resource (through the same node).
      const viewer = await connectWhepViewer(n.url, KEY, id);
      await viewer.close();
      // Trickle: a candidate for the session's connection answers as the owner would.
      const patch = await fetch(`${n.url}/webrtc/sessions/${id}`, {
        method: 'PATCH',
        headers: { ...auth, 'content-type': 'application/trickle-ice-sdpfrag' },
        body: 'a=mid:0\r\na=candidate:1 1 UDP 2122252543 127.0.0.1 9 typ host\r\n',
      });
      assert.ok(patch.status === 200 || patch.status === 204, `trickle PATCH via ${via}: ${patch.status} ${await patch.text()}`);
      // Another key's request for it is 404 everywhere, as on a lone server.
      assert.equal((await fetch(`${n.url}/sessions/${id}/events`, { headers: { 'api-key': LIMITED } })).status, 404);
    }

    // WHIP: published through HAProxy; its resource is PATCHed and DELETEd through the nodes that do not hold it.
    const whip = await connectWhip(haproxy.url, KEY, 'detect');
    const whipOwner = await ownerOf(whip.id);
    const others = nodes.filter((n) => n !== whipOwner);
    const wpatch = await fetch(`${others[0]!.url}/whip/${whip.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/trickle-ice-sdpfrag' },
      body: 'a=mid:0\r\na=candidate:1 1 UDP 2122252543 127.0.0.1 9 typ host\r\n',
    });
    assert.equal(wpatch.status, 204, `WHIP PATCH via another node: ${await wpatch.text()}`);
    const wdel = await fetch(`${others[1]!.url}/whip/${whip.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(wdel.status, 200, `WHIP DELETE via another node: ${wdel.status}`);
    await until('the WHIP session ended', async () => (await ownerOf(whip.id)) === undefined, 5000);
    await whip.close();

    // DELETE through a node that does not hold the session: its final counters.
    const other = nodes.find((n) => n !== owner)!;
    const del = await fetch(`${other.url}/webrtc/sessions/${id}`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 200);
    const summary = (await del.json()) as { session_id: string; frames_processed: number };
    assert.equal(summary.session_id, id);
    assert.ok(summary.frames_processed > 0);
    // Again through the third node: the ended session's final counters, as a lone server answers for 10 minutes.
    const third = nodes.find((n) => n !== owner && n !== other)!;
    const again = await fetch(`${third.url}/webrtc/sessions/${id}`, { method: 'DELETE', headers: auth });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { session_id: string }).session_id, id);
    await s.stop();
  });

  test('history written by any node is read through any node', async () => {
    const id = sdkSessions[0]!.client.sessionId;
    for (const n of nodes) {
      await until(
        `history of ${id} through ${n.url}`,
        async () => {
          const r = await fetch(`${n.url}/v1/sessions/${id}`, { headers: auth });
          return r.status === 200 && ((await r.json()) as { ended_at: string | null }).ended_at !== null;
        },
        5000,
      );
      const seed = (await (await fetch(`${n.url}/v1/sessions?user_id=seed-fleet`, { headers: auth })).json()) as { sessions: Array<{ session_id: string }> };
      assert.equal(seed.sessions.length, 1, 'the seed client session is in the history');
      const results = (await (await fetch(`${n.url}/v1/sessions/${seed.sessions[0]!.session_id}/results?limit=500`, { headers: auth })).json()) as {
        results: Array<{ result: { boxes?: unknown[] } }>;
      };
      const withBoxes = results.results.filter((r) => (r.result.boxes?.length ?? 0) > 0).length;
      assert.ok(
        results.results.length >= 15 && withBoxes >= results.results.length * 0.9,
        `seed session through ${n.url}: ${withBoxes}/${results.results.length} stored results with a face box`,
      );
      // What it could not process is counted, not lost.
      const stored = (await (await fetch(`${n.url}/v1/sessions/${seed.sessions[0]!.session_id}`, { headers: auth })).json()) as {
        frames_received: number;
        frames_processed: number;
        frames_dropped: number;
      };
      assert.equal(stored.frames_processed, results.results.length);
      assert.ok(stored.frames_received >= stored.frames_processed + stored.frames_dropped, JSON.stringify(stored));
    }
  });

  test('a key limited to 2 sessions gets 429 on its 3rd, on whichever node it lands', async () => {
    // Both on the node that holds the Chromium session: the SIGKILL test below takes that node down.
    const victim = await ownerOf((await chromium.evaluate(() => (window as any).sightlineDemo.session?.sessionId)) as string);
    assert.ok(victim, "the Chromium session's node");
    live.push(await stream(victim.url, LIMITED), await stream(victim.url, LIMITED));
    for (const n of nodes) {
      await assert.rejects(NodeClient.connect({ url: n.url, apiKey: LIMITED }), (err: { code?: string; status?: number }) => {
        assert.equal(err.status, 429);
        assert.equal(err.code, 'rate_limited');
        return true;
      });
    }
  });

  test('SIGKILL the inference node mid-stream: error results within 1 s, results again within 5 s of its restart', async () => {
    const s = sdkSessions[1]!;
    await until('results flowing', () => s.results.length > 0, 5000);
    const killedAt = performance.now();
    await infer.kill();
    const firstError = await until('an error result', () => s.errors.some((e) => e.at > killedAt), 5000);
    const err = s.errors.find((e) => e.at > killedAt)!;
    assert.equal(err.code, 'processing_failed');
    assert.match(err.message, /inference server|ECONNREFUSED|circuit/i);
    assert.ok(firstError <= 1000, `first error result ${Math.round(firstError)} ms after the kill`);
    await sleep(1500);
    infer = await startInferServerProcess(inferPort, ['--workers', '1']);
    const back = s.results.length;
    const resumed = await until('face results again', () => s.results.slice(back).some(boxesTheFace), 10_000);
    console.log(`inference node SIGKILLed: first error result after ${Math.round(firstError)} ms; results again ${Math.round(resumed)} ms after its restart`);
    assert.ok(resumed <= 5000, `results resumed ${Math.round(resumed)} ms after the inference node came back`);
  });

  test("SIGKILL a media node: its sessions end, the SDK reconnects through HAProxy, other nodes go on, the key's slots come back", async () => {
    const sessionId = (await chromium.evaluate(() => (window as any).sightlineDemo.session?.sessionId)) as string;
    const victim = (await ownerOf(sessionId))!;
    const survivors: Streaming[] = [];
    for (const s of sdkSessions.slice(1)) if ((await ownerOf(s.client.sessionId)) !== victim) survivors.push(s);
    const before = survivors.map((s) => s.results.length);
    victim.proc.kill('SIGKILL');
    const killedAt = Date.now();
    // The page notices, reconnects through HAProxy (to a live node) and gets face boxes again.
    await chromium.waitForFunction(
      (old) => document.body.dataset.state === 'connected' && (window as any).sightlineDemo.session?.sessionId !== old,
      sessionId,
      { timeout: 60_000 },
    );
    const reconnectedAfter = Date.now() - killedAt;
    const n0 = ((await chromium.evaluate(() => (window as any).sightlineDemo.results.length)) as number) ?? 0;
    await until(
      'Chromium results after the reconnect',
      async () => ((await chromium.evaluate(() => (window as any).sightlineDemo.results.length)) as number) > n0 + 10,
      20_000,
    );
    const newOwner = await ownerOf((await chromium.evaluate(() => (window as any).sightlineDemo.session?.sessionId)) as string);
    assert.ok(newOwner && newOwner !== victim, 'the new session is on a live node');
    // Sessions on the other nodes never stopped.
    for (const [i, s] of survivors.entries()) {
      if ((await ownerOf(s.client.sessionId)) === undefined) continue;
      assert.ok(s.results.length > before[i]! + 10, `a session on another node went on: ${before[i]} → ${s.results.length} results`);
    }
    // The limited key's two sessions died with the node: its slots come back once their leases expire.
    const freedAfter = await until(
      'a limited-key session admitted again',
      async () => {
        try {
          live.push(await stream(haproxy.url, LIMITED));
          return true;
        } catch {
          return false;
        }
      },
      LEASE_MS + 10_000,
    );
    live.push(await stream(haproxy.url, LIMITED));
    await assert.rejects(NodeClient.connect({ url: haproxy.url, apiKey: LIMITED }), (err: { status?: number }) => err.status === 429);
    console.log(`media node SIGKILLed: Chromium reconnected after ${reconnectedAfter} ms; the key's slots were back ${Math.round(freedAfter)} ms later`);
    const cluster = (await (await fetch(`${haproxy.url}/v1/cluster`, { headers: auth })).json()) as { nodes: Array<{ node_id: string }> };
    assert.equal(cluster.nodes.length, 2, 'the dead node left the list');
  });

  test('SIGTERM a media node: HAProxy stops sending it offers, and its sessions drain', async () => {
    const alive = nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
    assert.equal(alive.length, 2);
    const draining = alive[0]!;
    const session = await stream(draining.url);
    live.push(session);
    await until('results', () => session.results.length > 0, 5000);
    // It also relays the other node's session to a reader (SSE) and a WebSocket: streams that outlive its own sessions
    // must not hold its exit.
    const elsewhere = await stream(alive[1]!.url);
    live.push(elsewhere);
    const relayed = await fetch(`${draining.url}/sessions/${elsewhere.client.sessionId}/events`, { headers: auth });
    assert.equal(relayed.status, 200);
    const relayedDone = relayed.body!.pipeTo(new WritableStream()).then(
      () => 'ended',
      () => 'ended',
    );
    const ws = new WebSocket(`${draining.url.replace('http', 'ws')}/sessions/${elsewhere.client.sessionId}/ws`, { headers: auth });
    await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
    const wsClosed = new Promise((r) => ws.once('close', r));
    draining.proc.kill('SIGTERM');
    await until('its /readyz says draining', async () => (await fetch(`${draining.url}/readyz`).catch(() => undefined))?.status === 503, 3000);
    const ready = (await (await fetch(`${draining.url}/readyz`)).json()) as { reason?: string };
    assert.equal(ready.reason, 'draining');
    // HAProxy's checks (every 500 ms when failing) take it out: new offers all land on the other node.
    await sleep(2500);
    const fresh: Streaming[] = [];
    for (let i = 0; i < 3; i++) fresh.push(await stream(haproxy.url));
    live.push(...fresh);
    for (const f of fresh) assert.equal(await ownerOf(f.client.sessionId), alive[1], 'a new session went to the node that is not draining');
    // Its own session was told, and the node exits once the drain deadline passes.
    const code = await new Promise<number | null>((r) =>
      draining.proc.exitCode !== null ? r(draining.proc.exitCode) : draining.proc.once('exit', (c) => r(c)),
    );
    assert.equal(code, 0, draining.output().slice(-2000));
    assert.equal(await relayedDone, 'ended');
    await wsClosed;
    // The session it relayed lives on, on its own node.
    const n = elsewhere.results.length;
    await until('the relayed session still gets results on its node', () => elsewhere.results.length > n + 5, 10_000);
    assert.match(draining.output(), /"end_reason":"(shutdown|client_closed)"/);
  });
});
