/**
 * The in-process server the HTTP and WebSocket targets fuzz (`createServer` with one inference worker, an in-memory
 * history, silent logs, listening on 127.0.0.1 only when a WebSocket target asks), the keys it knows, valid offers
 * made by the Node publisher, long-lived sessions to aim at (a trickle WebRTC session, a WHIP session, a WHEP viewer),
 * and the check every HTTP answer must pass: no 5xx (but the documented refusals), and every error body
 * `{error: {code, message}}` with a code of the protocol whose status is the answer's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { openPeerCount } from '@sightline/media';
import { ERROR_STATUS, ErrorBody } from '@sightline/protocol';
import { loadConfig } from '../../src/config.js';
import { createServer, type SightlineServer } from '../../src/server.js';
import { NodePeer } from '../helpers/node-peer.js';
import type { Tally } from './fuzz-target.js';
import { KNOWN_ISSUES, type HttpAnswer } from './known-issues.js';

/** A key with no limits. */
export const KEY = 'fuzz-key';
/** Another tenant's key: its sessions are "not found" to KEY. */
export const OTHER_KEY = 'fuzz-other';
/** A keys-file key that may use `null` and `stats` only, one session at a time. */
export const LIMITED_KEY = 'fuzz-limited';

/** 5xx codes a route may answer on purpose (capacity, a feature this engine lacks): counted, not failures. */
const DOCUMENTED_5XX: ReadonlySet<string> = new Set(['at_capacity', 'not_ready', 'not_implemented']);

export class FuzzServer {
  readonly server: SightlineServer;
  readonly #dir: string;
  /** Valid offers of the Node publisher (libdatachannel), made at start. */
  readonly offers: readonly string[];
  /** Sessions opened by fuzz inputs (2xx answers), to end after each input. */
  readonly #opened = new Set<string>();
  /** WHEP viewers opened by fuzz inputs: [session id, viewer id]. */
  readonly #viewers: Array<[string, string]> = [];
  #url: string | undefined;
  #live: string | undefined;
  #whip: { id: string; location: string } | undefined;
  #viewer: { sessionId: string; location: string } | undefined;

  private constructor(server: SightlineServer, dir: string, offers: string[]) {
    this.server = server;
    this.#dir = dir;
    this.offers = offers;
  }

  static async start(): Promise<FuzzServer> {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-fuzz-'));
    const keysFile = join(dir, 'keys.yaml');
    writeFileSync(keysFile, `keys:\n  - key: ${LIMITED_KEY}\n    name: limited\n    processors: ['null', stats]\n    max_sessions: 1\n`);
    const server = await createServer(
      loadConfig(
        [
          ...['--workers', '1', '--log-level', 'silent', '--db', ':memory:', '--db-flush-interval-ms', '50'],
          ...['--host', '127.0.0.1', '--port', '0', '--keys-file', keysFile, '--max-sessions', '64', '--max-viewers', '8'],
          // Sessions the fuzzer opens never connect: they must live until the fuzzer ends them, not time out under it.
          ...['--connect-timeout-ms', '600000', '--ice-gathering-timeout-ms', '1000', '--processor', 'stats'],
        ],
        { SIGHTLINE_API_KEYS: `${KEY},${OTHER_KEY}` },
      ),
    );
    const offers: string[] = [];
    for (const opts of [{}, { codec: 'H264' as const, audio: true, receiveVideo: true }, { video: false }]) {
      const peer = new NodePeer(opts);
      try {
        offers.push(await peer.offer());
      } finally {
        peer.close();
      }
    }
    return new FuzzServer(server, dir, offers);
  }

  inject(opts: InjectOptions): Promise<LightMyRequestResponse> {
    return this.server.app.inject(opts);
  }

  /** The server's ws:// base URL (it starts listening on the first call). */
  async wsUrl(): Promise<string> {
    this.#url ??= (await this.server.listen()).replace(/^http/, 'ws');
    return this.#url;
  }

  /**
   * The HTTP invariant, for the answer `res` to `method url`: throws on a 5xx other than a documented refusal, or an
   * error answer whose body is not `{error: {code, message}}` with a protocol code whose status is `res.statusCode`
   * (or an answer matching a known issue, which is counted instead). Counts the outcome.
   */
  check(tally: Tally, method: string, url: string, res: HttpAnswer): void {
    const status = res.statusCode;
    tally.saw(`${status}${status >= 400 ? ` ${/"code":"([a-z_]+)"/.exec(res.body)?.[1] ?? '?'}` : ''}`);
    const what = `${method} ${url.slice(0, 200)} → ${status} ${res.body.slice(0, 400)}`;
    if (status < 400) return tally.accept();
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      body = undefined;
    }
    const parsed = ErrorBody.safeParse(body);
    const sameStatus = parsed.success && ERROR_STATUS[parsed.data.error.code] === status;
    const json = /^application\/json/.test(String(res.headers['content-type'] ?? ''));
    if (status < 500 && !(parsed.success && sameStatus && json)) {
      const known = KNOWN_ISSUES.find((k) => k.matches(method, url, res));
      if (known) return tally.sawKnown(known.id);
    }
    if (!parsed.success || !json) throw new Error(`error answer is not {"error":{"code","message"}} JSON: ${what}`);
    if (!sameStatus) throw new Error(`error code ${parsed.data.error.code} is ${ERROR_STATUS[parsed.data.error.code]} in ERROR_STATUS, answered ${what}`);
    if (status >= 500) {
      if (!DOCUMENTED_5XX.has(parsed.data.error.code)) throw new Error(`5xx: ${what}`);
      return tally.refuse5xx();
    }
    tally.reject();
  }

  /** `inject` + `check`; remembers a session a 2xx answer opened (ended by `endOpened`). */
  async request(tally: Tally, opts: InjectOptions & { method: string; url: string }): Promise<LightMyRequestResponse> {
    const res = await this.inject(opts);
    this.check(tally, opts.method, opts.url, res);
    if (res.statusCode < 300) {
      const location = res.headers.location;
      const viewer = typeof location === 'string' ? /\/sessions\/([^/]+)\/whep\/([^/]+)$/.exec(location) : null;
      if (viewer) {
        if (location !== this.#viewer?.location) this.#viewers.push([viewer[1]!, viewer[2]!]);
      } else if (typeof location === 'string' && /\/whip\/[^/]+$/.test(location)) this.#opened.add(location.split('/').pop()!);
      else if (/json/.test(String(res.headers['content-type'])) && opts.method === 'POST') {
        const id = (res.json() as { session_id?: unknown }).session_id;
        if (typeof id === 'string' && id !== this.#live) this.#opened.add(id);
      }
    }
    return res;
  }

  /** Ends every session and WHEP viewer fuzz inputs opened (not the long-lived ones). */
  endOpened(): void {
    for (const [sessionId, viewerId] of this.#viewers.splice(0)) this.server.sessions.get(sessionId)?.removeViewer(viewerId);
    for (const id of this.#opened) {
      if (id !== this.#live && id !== this.#whip?.id) this.server.sessions.end(id, 'deleted');
    }
    this.#opened.clear();
  }

  /** Sessions now live besides the long-lived ones (for leak checks). */
  get strayCount(): number {
    return this.server.sessions.size - [this.#live, this.#whip?.id].filter((id) => id !== undefined && this.server.sessions.get(id)).length;
  }

  /**
   * Native peer connections open in this process (server and client side) beyond the long-lived fixtures' (the
   * WebRTC and WHIP sessions, the live session's WHEP viewers): what a target leaves open past its end is a leak.
   */
  get strayPeers(): number {
    const live = this.#live ? this.server.sessions.get(this.#live) : undefined;
    const whip = this.#whip ? this.server.sessions.get(this.#whip.id) : undefined;
    const fixtures = (live && !live.closed ? 1 + live.viewers : 0) + (whip && !whip.closed ? 1 : 0);
    return openPeerCount() - fixtures;
  }

  /** Waits (up to `ms`) until no stray session is live; returns how many are left. */
  async settle(ms = 5000): Promise<number> {
    this.endOpened();
    const until = Date.now() + ms;
    while (this.strayCount > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    return this.strayCount;
  }

  /** A live trickle WebRTC session of KEY (opened again if it ended). */
  async liveSession(): Promise<string> {
    const s = this.#live ? this.server.sessions.get(this.#live) : undefined;
    if (s && !s.closed) return s.id;
    const res = await this.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: this.offers[1], type: 'offer', trickle: true, mode: 'both', processor: 'null' }),
    });
    if (res.statusCode !== 200) throw new Error(`could not open the long-lived session: ${res.statusCode} ${res.body}`);
    this.#live = (res.json() as { session_id: string }).session_id;
    return this.#live;
  }

  /** A live WHIP session of KEY and its resource URL. */
  async liveWhip(): Promise<{ id: string; location: string }> {
    if (this.#whip && this.server.sessions.get(this.#whip.id) && !this.server.sessions.get(this.#whip.id)!.closed) return this.#whip;
    const res = await this.inject({
      method: 'POST',
      url: '/whip?processor=null',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${KEY}` },
      payload: this.offers[0]!,
    });
    if (res.statusCode !== 201) throw new Error(`could not open the long-lived WHIP session: ${res.statusCode} ${res.body}`);
    const location = String(res.headers.location);
    this.#whip = { id: location.split('/').pop()!, location };
    return this.#whip;
  }

  /** A WHEP viewer of the long-lived session (its resource URL), opened again when it went. */
  async liveViewer(): Promise<string> {
    const sessionId = await this.liveSession();
    if (this.#viewer && this.#viewer.sessionId === sessionId) {
      const probe = this.server.sessions.get(sessionId)?.viewers ?? 0;
      if (probe > 0) return this.#viewer.location;
    }
    const res = await this.inject({
      method: 'POST',
      url: `/sessions/${sessionId}/whep`,
      headers: { 'content-type': 'application/sdp', 'api-key': KEY },
      payload: this.offers[1]!.replace(/a=sendrecv/, 'a=recvonly'),
    });
    if (res.statusCode !== 201) throw new Error(`could not open the long-lived WHEP viewer: ${res.statusCode} ${res.body}`);
    this.#viewer = { sessionId, location: String(res.headers.location) };
    return this.#viewer.location;
  }

  async healthy(): Promise<boolean> {
    const res = await this.inject({ method: 'GET', url: '/healthz' });
    return res.statusCode === 200;
  }

  async close(): Promise<void> {
    await this.server.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
