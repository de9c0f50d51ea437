import type { FastifyReply } from 'fastify';
import { EventsPage, ResultsPage, SessionsPage, StoredEvent, StoredResult, StoredSessionDetail } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InvalidCursorError, MAX_PAGE, type SessionStore } from '../store/store.js';
import { authenticate } from './auth.js';
import { Errors } from './errors.js';
import type { KeyStore } from '../auth/key-store.js';
import { API_KEY, AUTH_ERRORS, errors, json, SessionParams } from './openapi/route-docs.js';
import { storedText } from '@sightline/protocol';

export interface HistoryRoutesOptions {
  keys: KeyStore;
  store: SessionStore;
}

const Time = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);
const Limit = z.coerce.number().int().min(1).max(MAX_PAGE).default(100).describe(`page size (1–${MAX_PAGE})`);
const SessionsQuery = z
  .object({
    user_id: storedText(256).optional().describe("only this user's sessions"),
    from: Time.optional().describe('started at or after (epoch ms or ISO 8601)'),
    to: Time.optional().describe('started before (epoch ms or ISO 8601)'),
    limit: Limit,
    cursor: storedText(512).optional().describe('`next_cursor` of the previous page'),
  })
  .strict();
const InSessionQuery = z.object({ after: storedText(512).optional().describe('a `cursor`: only rows recorded after it'), limit: Limit }).strict();

const badCursor = (err: unknown): never => {
  if (err instanceof InvalidCursorError) throw Errors.invalidBody(err.message);
  throw err;
};

/**
 * The caller's tenant's session history: `GET {base}/v1/sessions?user_id=&from=&to=&limit=&cursor=` (newest first,
 * keyset pages), `GET {base}/v1/sessions/:id` (with its params history), `GET {base}/v1/sessions/:id/results?after=&limit=`
 * (in order; with `Accept: application/x-ndjson` every result, streamed) and `…/events`. Reads what the store has
 * flushed (at most --db-flush-interval-ms behind). Another tenant's session is 404.
 */
export const historyRoutes: FastifyPluginAsyncZod<HistoryRoutesOptions> = async (app, opts) => {
  const { store, keys } = opts;
  app.addHook('onRequest', async (req) => {
    req.keyId = authenticate(req, keys);
  });
  const tenantOf = (keyId: string | undefined): string => keys.policy(keyId!)?.tenant ?? keyId!;

  const tags = ['History'];
  const sessionsDoc = {
    schema: {
      tags,
      summary: "Sessions of the caller's tenant, newest first",
      security: API_KEY,
      querystring: SessionsQuery,
      response: { 200: json('a page of sessions', SessionsPage), ...errors(400, ...AUTH_ERRORS) },
    },
  };
  app.get('/v1/sessions', sessionsDoc, async (req) => {
    const q = req.query;
    return store
      .listSessions({
        tenant: tenantOf(req.keyId),
        limit: q.limit,
        ...(q.user_id ? { userId: q.user_id } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      })
      .catch(badCursor);
  });

  const sessionDoc = {
    schema: {
      tags,
      summary: 'One session with its processor/params history',
      security: API_KEY,
      params: SessionParams,
      response: { 200: json('the session', StoredSessionDetail), ...errors(...AUTH_ERRORS, 404) },
    },
  };
  app.get('/v1/sessions/:id', sessionDoc, async (req) => {
    const s = await store.getSession(tenantOf(req.keyId), req.params.id);
    if (!s) throw Errors.notFound(`session "${req.params.id.slice(0, 64)}"`);
    return s;
  });

  const listDoc = {
    results: { page: ResultsPage, line: StoredResult, summary: "A session's recorded results, oldest first" },
    events: { page: EventsPage, line: StoredEvent, summary: "A session's recorded events (speech_start/speech_end, errors, draining), oldest first" },
  };
  for (const what of ['results', 'events'] as const) {
    const d = listDoc[what];
    const schema = {
      tags,
      summary: d.summary,
      description: `JSON pages by default; with \`Accept: application/x-ndjson\`, a stream of one ${what === 'results' ? 'StoredResult' : 'StoredEvent'} a line.`,
      security: API_KEY,
      params: SessionParams,
      querystring: InSessionQuery,
      response: {
        200: {
          description: `a page of ${what}, or an NDJSON stream`,
          content: { 'application/json': { schema: d.page }, 'application/x-ndjson': { schema: d.line } },
        },
        ...errors(400, ...AUTH_ERRORS, 404),
      },
    };
    app.get(`/v1/sessions/:id/${what}`, { schema }, async (req, reply) => {
      const q = req.query;
      const tenant = tenantOf(req.keyId);
      const page = (after: string | undefined) =>
        (what === 'results'
          ? store.listResults({ tenant, sessionId: req.params.id, limit: q.limit, ...(after ? { after } : {}) })
          : store.listEvents({ tenant, sessionId: req.params.id, limit: q.limit, ...(after ? { after } : {}) })
        ).catch(badCursor);
      const first = await page(q.after);
      if (!first) throw Errors.notFound(`session "${req.params.id.slice(0, 64)}"`);
      if (!/application\/x-ndjson/.test(req.headers.accept ?? '')) return first;
      return streamNdjson(reply, first, page, what);
    });
  }
};

type Page = { next_cursor: string | null } & ({ results: unknown[] } | { events: unknown[] });

/** Writes every page as NDJSON (one item a line), fetching the next page as the client reads. */
async function streamNdjson(reply: FastifyReply, first: Page, next: (after: string) => Promise<Page | null>, what: 'results' | 'events'): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  let page: Page | null = first;
  try {
    while (page && !res.destroyed) {
      const items = 'results' in page ? page.results : page.events;
      const ok = res.write(items.map((i) => `${JSON.stringify(i)}\n`).join(''));
      if (!ok) await new Promise((r) => res.once('drain', r));
      page = page.next_cursor ? await next(page.next_cursor) : null;
    }
  } catch (err) {
    res.write(`${JSON.stringify({ error: { code: 'internal', message: `streaming ${what} failed: ${err instanceof Error ? err.message : String(err)}` } })}\n`);
  } finally {
    res.end();
  }
}
