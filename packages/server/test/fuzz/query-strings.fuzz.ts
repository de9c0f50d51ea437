/**
 * Target `query-strings` (HTTP, in-process server): query strings and path parameters of every GET route, and of the
 * POST routes that read a query.
 *
 * Inputs: the history routes (`GET /v1/sessions?user_id=&from=&to=&limit=&cursor=`, `/v1/sessions/:id`,
 * `…/results|events?after=&limit=`, JSON or NDJSON) with real cursors and ids mutated, numbers and dates at their
 * edges; `POST /whip?processor=&params=` and `POST /webrtc/offer?…` with valid offers; `GET /ws?…` without an
 * upgrade; discovery, health, ICE, demo, metrics and OpenAPI routes with junk queries. Queries are built from known
 * and unknown keys (repeated, bracketed, prototype names) with valid and odd values, or are valid queries mutated as
 * text; what a client could not send raw (controls, spaces, non-ASCII) is percent-encoded, bad escapes (`%zz`, `%ff`)
 * are kept.
 *
 * Invariant (FuzzServer.check): no 5xx, every error `{error: {code, message}}` with its code's status.
 */
import fc from 'fast-check';
import { fuzzTarget } from './fuzz-target.js';
import { KEY } from './fuzz-server.js';
import { encode } from './http-common.js';
import { mutatedText, NASTY_STRINGS, weirdString } from './mutators.js';

/** `text` as a client can put it in a request target: controls, spaces and non-ASCII percent-encoded, the rest raw. */
export const asRequestTarget = (text: string): string =>
  text.replace(/[^\x21-\x7e]/gu, (c) => (c.length === 1 && c >= '\ud800' && c <= '\udfff' ? '%EF%BF%BD' : encodeURIComponent(c)));

export const fuzzQueryStrings = fuzzTarget('query-strings', { server: true }, async ({ tally, server }) => {
  // Some history to page through: sessions opened and ended, flushed to the store.
  for (let i = 0; i < 3; i++) {
    const res = await server.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: server.offers[0], type: 'offer', processor: 'null', user_id: `user-${i}` }),
    });
    server.server.sessions.end((res.json() as { session_id: string }).session_id, 'deleted');
  }
  await new Promise((r) => setTimeout(r, 300));
  const get = async <T>(url: string): Promise<T> => (await server.inject({ method: 'GET', url, headers: { 'api-key': KEY } })).json() as T;
  const page = await get<{ sessions: Array<{ session_id: string }>; next_cursor: string | null }>('/v1/sessions?limit=1');
  const recent = await get<{ sessions: Array<{ session_id: string }> }>('/v1/sessions?limit=50');
  // Sessions with results (those of the WebSocket and DataChannel targets, when they ran first) and their row cursors.
  const withRows: string[] = [];
  const rowCursors: string[] = [];
  for (const { session_id: id } of recent.sessions) {
    const rows = await get<{ results: Array<{ cursor: string }>; next_cursor: string | null }>(`/v1/sessions/${id}/results?limit=1`);
    if (rows.results.length === 0) continue;
    withRows.push(id);
    rowCursors.push(...rows.results.map((r) => r.cursor), ...(rows.next_cursor ? [rows.next_cursor] : []));
    if (withRows.length >= 4) break;
  }
  const sessionIds = [...page.sessions.map((s) => s.session_id), ...withRows];
  const cursors = [page.next_cursor ?? 'MToxMjM', '0', '1', '9999999999999999', ...rowCursors];

  const value = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(...cursors, ...sessionIds, 'user-1', 'null', 'stats', '1', '100', '1000', '1700000000000', '2024-01-01T00:00:00Z'),
    },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 1, arbitrary: fc.constantFrom('{"step":4}', '{"min_score":0.5}', '{', '[]', 'null', '{"__proto__":{"x":1}}') },
    { weight: 2, arbitrary: weirdString(40) },
    { weight: 1, arbitrary: mutatedText(cursors) },
  );
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('user_id', 'from', 'to', 'limit', 'cursor', 'after', 'processor', 'params', 'record', 'key') },
    fc.constantFrom('__proto__', 'constructor', 'limit[]', 'cursor[0]', 'a[b]', 'LIMIT', '', ' '),
    weirdString(12),
  );
  const structured = fc
    .array(fc.tuple(key, value, fc.boolean()), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v, enc]) => (enc ? `${encode(k)}=${encode(v)}` : `${k}=${v}`)).join('&'));
  const VALID = ['limit=1', `cursor=${cursors[0]}&limit=2`, 'from=0&to=99999999999999', 'user_id=user-1', 'after=1&limit=5', 'processor=null', 'params=%7B%7D'];
  const query = fc.oneof(
    { weight: 4, arbitrary: structured },
    { weight: 2, arbitrary: mutatedText(VALID) },
    fc.constantFrom('', '&&&', '=', '?', '#x', 'a', 'a=1&a=2&a=3'),
  );
  const id = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...sessionIds) },
    fc.uuid(),
    weirdString(40).map(encode),
    fc.constantFrom('%ff', '%00', '..', '%2e%2e'),
  );

  const route = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ method: 'GET', path: '/v1/sessions' }) },
    { weight: 2, arbitrary: id.map((i) => ({ method: 'GET', path: `/v1/sessions/${i}` })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(id, fc.constantFrom('results', 'events'), fc.boolean())
        .map(([i, w, nd]) => ({ method: 'GET', path: `/v1/sessions/${i}/${w}`, ndjson: nd })),
    },
    { weight: 2, arbitrary: fc.constant({ method: 'POST', path: '/whip', body: 'sdp' }) },
    { weight: 1, arbitrary: fc.constant({ method: 'POST', path: '/webrtc/offer', body: 'json' }) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          '/ws',
          '/webrtc/ice-servers',
          '/v1/processors',
          '/v1/models',
          '/healthz',
          '/readyz',
          '/webrtc/health',
          '/demo-config.json',
          '/metrics',
          '/openapi.json',
          '/',
          '/nope',
        )
        .map((path) => ({ method: 'GET', path })),
    },
    { weight: 1, arbitrary: fc.uuid().map((i) => ({ method: 'GET', path: `/sessions/${i}/events` })) },
  );

  return {
    property: fc.asyncProperty(route, query, fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)), async (r, q, auth) => {
      const url = `${r.path}${q === '' ? '' : `?${asRequestTarget(q)}`}`;
      const h: Record<string, string> = auth || r.method === 'POST' ? { 'api-key': KEY } : {};
      if ('ndjson' in r && r.ndjson) h.accept = 'application/x-ndjson';
      try {
        if ('body' in r && r.body === 'sdp') {
          await server.request(tally, { method: 'POST', url, headers: { ...h, 'content-type': 'application/sdp' }, payload: server.offers[0]! });
        } else if ('body' in r) {
          const payload = JSON.stringify({ sdp: server.offers[0], type: 'offer', processor: 'null', trickle: true });
          await server.request(tally, { method: 'POST', url, headers: { ...h, 'content-type': 'application/json' }, payload });
        } else await server.request(tally, { method: 'GET', url, headers: h });
      } finally {
        server.endOpened();
      }
    }),
    after: async () => {
      const left = await server.settle();
      return left > 0 ? [`${left} sessions opened by query-string requests are still live after they were ended`] : [];
    },
  };
});
