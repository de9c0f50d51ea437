/**
 * Target `websocket` (real listening server, the `ws` client): the WebSocket bridge `GET /ws`
 * (api/ws-bridge-routes.ts, session/websocket-peer.ts), a whole session over one socket. Once a session runs, its
 * messages take the same path as DataChannel messages (Session → ControlChannel for text, EncodedFrameInput for
 * binary chunks); the `datachannel` target sends the same ones on a real DataChannel.
 *
 * Inputs: how the client authenticates (api-key header, Bearer, a `hello` message, none, a wrong key); the query
 * (`processor`, `params`, `user_id`, `record`, valid and odd); the `hello` (valid, with odd fields, mutated text,
 * binary instead); then a sequence of messages — control messages (`ping`/`set`, structured, mutated, oversized,
 * any JSON, free text), JPEG/WebP frames as valid chunks, chunks with mutated headers and payloads, random bytes,
 * text frames that are not UTF-8.
 *
 * Invariants: every message the server sends is JSON and a valid `ServerMessage`, and no error is `internal` or
 * `processing_failed`; the server answers a final `ping` (or closes) within 5 s, and acknowledges every whole, valid
 * frame (`frame_ack`); a query refused before the upgrade gets a 4xx in the error shape; it closes only with a normal code,
 * 1007/1009 (bad UTF-8, too big) or 4000 + a 4xx status (or a documented 503); every session ends when its socket
 * does (none left behind); the server stays healthy.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { expect, fuzzTarget } from './fuzz-target.js';
import { KEY, LIMITED_KEY } from './fuzz-server.js';
import { encode } from './http-common.js';
import type { HttpAnswer } from './known-issues.js';
import { mostly, mutatedText, weirdJson, weirdString } from './mutators.js';
import { paramsArb } from './control-messages.fuzz.js';
import { checkServerMessages, chunkSamples, framesToAcknowledge, sessionMessages, type Outgoing } from './session-messages.js';

/** Close codes a client may see: normal, going away, no status, bad UTF-8, too big. */
const CLOSE_OK: ReadonlySet<number> = new Set([1000, 1001, 1005, 1007, 1009]);
const DOCUMENTED_5XX: ReadonlySet<string> = new Set(['at_capacity', 'not_ready']);
const WAIT_MS = 5000;

export const fuzzWebSocket = fuzzTarget('websocket', { server: true }, async ({ tally, server }) => {
  const base = await server.wsUrl();
  const chunks = await chunkSamples();
  const messages = await sessionMessages();

  /** Mostly `valid`, now and then `odd`. */
  const often = <T, U>(valid: fc.Arbitrary<T>, odd: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
    fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: odd });
  const processor = often(fc.constantFrom('null', 'stats', 'edges', 'face'), fc.oneof(fc.constantFrom('nope', 'Face', ''), weirdString(70)));
  const query = fc
    .record(
      {
        processor,
        params: often(fc.constant('{}'), fc.oneof(fc.constantFrom('{"step":4}', '{', '[]', 'null'), weirdString(30))),
        user_id: often(fc.stringMatching(/^[a-z0-9-]{1,20}$/), weirdString(40)),
        record: often(fc.constant('0'), fc.constantFrom('1', 'yes', '')),
      },
      { requiredKeys: [] },
    )
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${encode(v)}`)
        .join('&'),
    );
  const hello = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .record(
          {
            type: mostly(fc.constant('hello'), 12),
            api_key: often(fc.constant(KEY), fc.oneof(fc.constantFrom(LIMITED_KEY, 'nope', ''), weirdJson())),
            user_id: often(fc.oneof(fc.constant(null), fc.string({ maxLength: 20 })), fc.oneof(weirdString(300), weirdJson())),
            processor: often(processor, weirdJson()),
            params: often(fc.constant({}), paramsArb()),
            record: often(fc.constant(false), weirdJson()),
          },
          { requiredKeys: ['type', 'api_key'] },
        )
        .map((h): Outgoing => ({ kind: 'text', text: JSON.stringify(h) })),
    },
    { weight: 1, arbitrary: mutatedText([`{"type":"hello","api_key":"${KEY}","processor":"stats"}`]).map((text): Outgoing => ({ kind: 'text', text })) },
    { weight: 1, arbitrary: fc.constantFrom(...chunks).map((bytes): Outgoing => ({ kind: 'binary', bytes })) },
  );
  const scenario = fc.record({
    auth: fc.constantFrom('header', 'header', 'bearer', 'hello', 'hello', 'hello', 'none', 'wrong'),
    query,
    hello,
    messages,
  });

  let n = 0;
  return {
    property: fc.asyncProperty(scenario, async (s) => {
      const end = `fuzz-end-${n++}`;
      const headers: Record<string, string> =
        s.auth === 'header' ? { 'api-key': KEY } : s.auth === 'bearer' ? { authorization: `Bearer ${KEY}` } : s.auth === 'wrong' ? { 'api-key': 'nope' } : {};
      const ws = new WebSocket(`${base}/ws${s.query ? `?${s.query}` : ''}`, { headers });
      const received: Array<string | { binary: true }> = [];
      let closed: { code: number; reason: string } | undefined;
      let wake: () => void = () => undefined;
      const next = (): Promise<void> => new Promise<void>((r) => (wake = r));
      ws.on('message', (data, isBinary) => {
        received.push(isBinary ? { binary: true as const } : String(data));
        wake();
      });
      ws.on('close', (code, reason) => {
        closed = { code, reason: reason.toString() };
        wake();
      });
      ws.on('error', () => wake());
      ws.on('open', () => wake());
      // A request refused before the upgrade (a malformed query) gets an HTTP answer: checked like any other.
      let refusal: Promise<HttpAnswer> | undefined;
      ws.on('unexpected-response', (_req, res) => {
        refusal = new Promise<HttpAnswer>((resolve) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body, headers: res.headers }));
        });
        void refusal.then(() => {
          closed = { code: 0, reason: 'refused before the upgrade' };
          ws.terminate();
          wake();
        });
      });
      /** Waits until `done()` or the socket closed; false after WAIT_MS. */
      const until = async (done: () => boolean): Promise<boolean> => {
        const deadline = Date.now() + WAIT_MS;
        while (!done() && !closed) {
          const left = deadline - Date.now();
          if (left <= 0) return false;
          await Promise.race([next(), new Promise((r) => setTimeout(r, Math.min(left, 100)))]);
        }
        return true;
      };
      const send = (m: Outgoing): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (m.kind === 'text') ws.send(m.text);
        else ws.send(m.bytes, { binary: m.kind === 'binary' });
      };
      const texts = (): Array<Record<string, unknown>> =>
        received.flatMap((m) => {
          try {
            return typeof m === 'string' ? [JSON.parse(m) as Record<string, unknown>] : [];
          } catch {
            return []; // reported by checkServerMessages
          }
        });
      try {
        expect(await until(() => ws.readyState === WebSocket.OPEN), 'the upgrade was not answered');
        if (refusal) {
          server.check(tally, 'GET', `/ws?${s.query}`, await refusal);
          return;
        }
        if (!closed) {
          if (s.auth === 'hello' || s.auth === 'none') send(s.auth === 'hello' ? s.hello : (s.messages[0] ?? s.hello));
          // The session answers `ready` (or an error and a close) before it reads anything else.
          expect(await until(() => received.length > 0), 'no ready or error within 5 s');
        }
        if (!closed && texts()[0]?.type === 'ready') {
          tally.accept();
          for (const m of s.messages) send(m);
          send({ kind: 'text', text: JSON.stringify({ type: 'ping', id: end }) });
          const answered = await until(() => texts().some((m) => m.type === 'pong' && m.id === end));
          expect(answered, 'the final ping was not answered within 5 s', s.messages.length);
          // Every whole, valid frame is acknowledged once the server is done with it (processed, dropped…).
          const expected = framesToAcknowledge(s.messages);
          const acked = (): Set<number> => new Set(texts().flatMap((m) => (m.type === 'frame_ack' ? [m.frame_id as number] : [])));
          const allAcked = await until(() => expected.every((id) => acked().has(id)));
          expect(allAcked, 'a valid frame was never acknowledged (frame_ack) within 5 s', { expected, acked: [...acked()] });
        } else tally.reject();
      } finally {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
        await until(() => false);
      }
      checkServerMessages(received, tally);
      if (closed) {
        const code = closed.code;
        tally.saw(`close ${code}`);
        const errorCode = texts().find((m) => m.type === 'error')?.code;
        const refused = code >= 4500 && code < 4600 && typeof errorCode === 'string' && DOCUMENTED_5XX.has(errorCode);
        if (refused) tally.refuse5xx();
        expect(CLOSE_OK.has(code) || (code >= 4400 && code < 4500) || refused, `the server closed with ${code} ${closed.reason}`, texts());
      }
    }),
    after: async () => {
      const left = await server.settle();
      return left > 0 ? [`${left} WebSocket sessions are still live after their sockets closed`] : [];
    },
  };
});
