import { useZodSchemas } from '../../src/api/request-validation.js';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ResultMessage, ServerMessage, SessionSummary } from '@sightline/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { metricsRoutes } from '../../src/api/metrics-routes.js';
import { SightlineError } from '../../src/errors.js';
import { countHttpErrors } from '../../src/observability/http-error-metrics.js';
import { ServerMetrics, type Transport } from '../../src/observability/server-metrics.js';

/** What parse-prometheus-text-format returns (it ships no types). */
interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string }>;
}

/** A parsed scrape: each family's type, and every sample by its name (`x_bucket`, `x_count`, … for histograms). */
interface Scrape {
  types: Map<string, string>;
  samples: Map<string, Array<{ labels: Record<string, string>; value: number }>>;
}

/**
 * Parses exposition text with parse-prometheus-text-format. That parser folds a histogram's series into one and loses
 * their labels, so samples are read from a second parse in which histogram families are declared untyped (each
 * `_bucket`/`_sum`/`_count` line then stays a sample with its labels); types come from the first parse.
 */
function parseScrape(text: string): Scrape {
  const typed = parsePrometheusTextFormat(text) as Family[];
  const untyped = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) as Family[];
  const samples: Scrape['samples'] = new Map();
  for (const f of untyped) {
    const list = samples.get(f.name) ?? [];
    for (const m of f.metrics) list.push({ labels: m.labels ?? {}, value: Number(m.value) });
    samples.set(f.name, list);
  }
  return { types: new Map(typed.map((f) => [f.name, f.type])), samples };
}

/** A session as the metrics see it: an id and a summary whose counters the test drives. */
class FakeSession {
  readonly s: SessionSummary;
  constructor(
    readonly id: string,
    processor: string,
  ) {
    this.s = {
      session_id: id,
      processor,
      user_id: null,
      frames_received: 0,
      frames_processed: 0,
      frames_dropped: 0,
      results_sent: 0,
      results_undelivered: 0,
      end_reason: null,
    };
  }
  summary(): SessionSummary {
    return { ...this.s };
  }
}

let frameId = 0;
const result = (processor: string, inferenceMs: number, totalMs: number): ResultMessage => ({
  type: 'result',
  frame_id: frameId++,
  boxes: [],
  width: 640,
  height: 480,
  processor,
  timing: { received_ms: Date.now(), queue_ms: 0.1, inference_ms: inferenceMs, total_ms: totalMs },
  dropped: 0,
});

/** Drives the hooks as a session does: frames in, results out (delivered or not), drops, rejections. */
function drive(m: ServerMetrics, s: FakeSession, n: { processed: number; dropped?: number; rejected?: number; undelivered?: number }): ResultMessage[] {
  const sent: ResultMessage[] = [];
  for (let i = 0; i < n.processed; i++) {
    const r = result(s.s.processor, 1 + (i % 40), 2 + (i % 40) * 1.5);
    m.onMessage(r);
    sent.push(r);
    if (i < (n.undelivered ?? 0)) s.s.results_undelivered++;
    else s.s.results_sent++;
  }
  s.s.frames_processed += n.processed;
  s.s.frames_dropped += n.dropped ?? 0;
  s.s.frames_rejected = (s.s.frames_rejected ?? 0) + (n.rejected ?? 0);
  s.s.frames_received += n.processed + (n.dropped ?? 0) + (n.rejected ?? 0);
  return sent;
}

async function scrape(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Scrape> {
  const r = await app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(r.statusCode, 200, r.body);
  assert.match(r.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  return parseScrape(r.body);
}

/** The value of the one sample of `name` whose labels include `labels`; 0 when there is none (a counter never incremented). */
const value = (sc: Scrape, name: string, labels: Record<string, string> = {}): number => {
  const list = sc.samples.get(name);
  assert.ok(list, `${name} is exported`);
  const hits = list.filter((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} names one series`);
  return hits[0]?.value ?? 0;
};

describe('ServerMetrics and GET /metrics (real prom-client registry, parsed with a Prometheus text parser)', () => {
  const apps: FastifyInstance[] = [];
  const appWith = async (m: ServerMetrics, metricsToken?: string): Promise<FastifyInstance> => {
    const app = Fastify();
    apps.push(app);
    useZodSchemas(app);
    countHttpErrors(app, m);
    await app.register(metricsRoutes, { metrics: m, metricsToken });
    app.get('/fail', async () => {
      throw new SightlineError('at_capacity', 'full');
    });
    app.setErrorHandler((err, _req, reply) => {
      const e = err instanceof SightlineError ? err : new SightlineError('internal', 'x');
      void reply.code(e.status).send(e.body());
    });
    app.setNotFoundHandler((_req, reply) => void reply.code(404).send({ error: { code: 'not_found', message: 'nope' } }));
    return app;
  };
  after(async () => {
    for (const a of apps) await a.close();
  });

  test('counters equal what sessions sent, live and after they end; histograms count every result', async () => {
    let depth = 3;
    const m = new ServerMetrics({ poolQueue: () => ({ depth, oldestAgeMs: 42, pending: depth + 2, waitMs: 250 }) });
    const app = await appWith(m);
    const transports: Transport[] = ['webrtc', 'whip', 'ws'];
    const sessions = [new FakeSession('a', 'face'), new FakeSession('b', 'face'), new FakeSession('c', 'null')];
    sessions.forEach((s, i) => m.onSessionStart(transports[i]!, s));
    const results: ResultMessage[] = [];
    results.push(...drive(m, sessions[0]!, { processed: 30, dropped: 4, undelivered: 2 }));
    results.push(...drive(m, sessions[1]!, { processed: 12, dropped: 1, rejected: 3 }));
    results.push(...drive(m, sessions[2]!, { processed: 50 }));
    m.onMessage({ type: 'error', code: 'processing_failed', message: 'x', frame_id: 1 });
    m.onMessage({ type: 'speech_start', processor: 'vad', t_ms: 0, at_ms: 1 });
    m.onMessage({ type: 'speech_end', processor: 'vad', t_ms: 900, at_ms: 2, duration_ms: 900 });
    m.onMessage({ type: 'audio_level', processor: 'audio-level', t_ms: 0, rms_dbfs: -20, peak_dbfs: -3 });
    m.onMessage({ type: 'pong', server_ms: 1 } satisfies ServerMessage);

    const sum = (f: keyof SessionSummary, p: string) => sessions.filter((s) => s.s.processor === p).reduce((n, s) => n + Number(s.s[f] ?? 0), 0);
    const check = (fams: Scrape) => {
      for (const p of ['face', 'null']) {
        assert.equal(value(fams, 'sightline_frames_received_total', { processor: p }), sum('frames_received', p), `received ${p}`);
        assert.equal(value(fams, 'sightline_frames_processed_total', { processor: p }), sum('frames_processed', p), `processed ${p}`);
        assert.equal(value(fams, 'sightline_frames_dropped_total', { processor: p }), sum('frames_dropped', p), `dropped ${p}`);
        assert.equal(value(fams, 'sightline_frames_rejected_total', { processor: p }), sum('frames_rejected', p), `rejected ${p}`);
        assert.equal(value(fams, 'sightline_results_undelivered_total', { processor: p }), sum('results_undelivered', p));
        assert.equal(value(fams, 'sightline_results_sent_total', { processor: p }), sum('results_sent', p));
        const inRes = results.filter((r) => r.processor === p);
        for (const [name, key] of [
          ['sightline_inference_seconds', 'inference_ms'],
          ['sightline_frame_total_seconds', 'total_ms'],
        ] as const) {
          const count = value(fams, `${name}_count`, { processor: p });
          assert.equal(count, inRes.length, `${name} count = results of ${p}`);
          assert.equal(count, sum('frames_processed', p));
          const total = inRes.reduce((n, r) => n + r.timing[key] / 1000, 0);
          assert.ok(Math.abs(value(fams, `${name}_sum`, { processor: p }) - total) < 1e-9, `${name} sum`);
          assert.equal(value(fams, `${name}_bucket`, { processor: p, le: '+Inf' }), inRes.length);
          assert.equal(value(fams, `${name}_bucket`, { processor: p, le: '0.005' }), inRes.filter((r) => r.timing[key] <= 5).length, `${name} le=0.005`);
        }
      }
    };

    let fams = await scrape(app);
    check(fams);
    for (const t of transports) assert.equal(value(fams, 'sightline_sessions_active', { transport: t }), 1, t);
    assert.equal(value(fams, 'sightline_errors_total', { code: 'processing_failed' }), 1);
    assert.equal(value(fams, 'sightline_audio_events_total', { type: 'speech_start' }), 1);
    assert.equal(value(fams, 'sightline_audio_events_total', { type: 'speech_end' }), 1);
    assert.equal(value(fams, 'sightline_audio_events_total', { type: 'audio_level' }), 1);
    assert.equal(value(fams, 'sightline_pool_queue_depth'), 3);
    assert.equal(value(fams, 'sightline_pool_queue_age_seconds'), 0.042);
    assert.equal(value(fams, 'sightline_pool_pending'), 5);
    assert.equal(value(fams, 'sightline_pool_wait_seconds'), 0.25);
    assert.ok(fams.types.has('nodejs_eventloop_lag_seconds'), 'event-loop lag is exported');
    assert.ok(fams.types.has('nodejs_eventloop_lag_p99_seconds'));

    // More frames, then sessions end: counters move on from the live values, never back.
    const before = value(fams, 'sightline_frames_received_total', { processor: 'face' });
    results.push(...drive(m, sessions[0]!, { processed: 7, dropped: 2 }));
    sessions[0]!.s.end_reason = 'deleted';
    m.onSessionEnd(sessions[0]!.summary());
    sessions[2]!.s.end_reason = 'client_closed';
    results.push(...drive(m, sessions[2]!, { processed: 5, undelivered: 5 }));
    m.onSessionEnd(sessions[2]!.summary());
    m.onSessionEnd(sessions[2]!.summary()); // repeated: ignored
    m.onSessionEnd({ ...sessions[1]!.summary(), session_id: 'never-started' }); // not started here: ignored
    depth = 0;
    fams = await scrape(app);
    check(fams);
    assert.ok(value(fams, 'sightline_frames_received_total', { processor: 'face' }) > before);
    assert.equal(value(fams, 'sightline_sessions_active', { transport: 'webrtc' }), 0);
    assert.equal(value(fams, 'sightline_sessions_active', { transport: 'whip' }), 1);
    assert.equal(value(fams, 'sightline_sessions_active', { transport: 'ws' }), 0);
    assert.equal(value(fams, 'sightline_sessions_total', { transport: 'webrtc', end_reason: 'deleted' }), 1);
    assert.equal(value(fams, 'sightline_sessions_total', { transport: 'ws', end_reason: 'client_closed' }), 1);
    assert.equal(value(fams, 'sightline_pool_queue_depth'), 0);
    assert.equal(fams.types.get('sightline_sessions_total'), 'COUNTER');
    assert.equal(fams.types.get('sightline_inference_seconds'), 'HISTOGRAM');
  });

  test('a session that switches processor: its later frames go to the new one, totals stay exact and monotone', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    const app = await appWith(m);
    const s = new FakeSession('x', 'face');
    m.onSessionStart('webrtc', s);
    drive(m, s, { processed: 10, dropped: 1 });
    let fams = await scrape(app);
    assert.equal(value(fams, 'sightline_frames_received_total', { processor: 'face' }), 11);
    s.s.processor = 'stats';
    drive(m, s, { processed: 4 });
    fams = await scrape(app);
    assert.equal(value(fams, 'sightline_frames_received_total', { processor: 'face' }), 11);
    assert.equal(value(fams, 'sightline_frames_received_total', { processor: 'stats' }), 4);
    s.s.end_reason = 'deleted';
    m.onSessionEnd(s.summary());
    fams = await scrape(app);
    assert.equal(
      value(fams, 'sightline_frames_received_total', { processor: 'face' }) + value(fams, 'sightline_frames_received_total', { processor: 'stats' }),
      s.s.frames_received,
    );
    assert.equal(fams.types.has('nodejs_eventloop_lag_seconds'), false);
  });

  test('HTTP error bodies are counted by code; success responses are not', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    const app = await appWith(m);
    for (let i = 0; i < 3; i++) assert.equal((await app.inject('/fail')).statusCode, 503);
    assert.equal((await app.inject('/nowhere')).statusCode, 404);
    const fams = await scrape(app);
    assert.equal(value(fams, 'sightline_errors_total', { code: 'at_capacity' }), 3);
    assert.equal(value(fams, 'sightline_errors_total', { code: 'not_found' }), 1);
    m.onError('made_up_code');
    assert.equal(value(await scrape(app), 'sightline_errors_total', { code: 'other' }), 1);
  });

  test('metricsToken: scrapes need the bearer token; 401 in the project error format otherwise', async () => {
    const m = new ServerMetrics({ defaultMetrics: false });
    const app = await appWith(m, 's3cret');
    const missing = await app.inject('/metrics');
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.json().error.code, 'missing_api_key');
    assert.equal(typeof missing.json().error.message, 'string');
    assert.match(missing.headers['www-authenticate'] as string, /^Bearer/);
    const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.code, 'invalid_token');
    const fams = await scrape(app, { authorization: 'Bearer s3cret' });
    assert.ok(fams.types.has('sightline_sessions_active'));
    // The refusals were error bodies too.
    assert.equal(value(fams, 'sightline_errors_total', { code: 'missing_api_key' }), 1);
    assert.equal(value(fams, 'sightline_errors_total', { code: 'invalid_token' }), 1);
  });
});
