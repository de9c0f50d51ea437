import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { SightlineError } from '../errors.js';
import type { Fleet, SessionOwner } from './fleet.js';

/** Set on a request one node forwards to another: the receiver answers it itself, whatever it finds. */
export const FORWARDED_BY = 'x-sightline-forwarded-by';

/**
 * Routes whose request belongs to one live session, by path (after the base path). The offer route belongs to one when
 * its body names `session_id` (a resume). History routes (`/v1/sessions/:id`) read the shared database on any node.
 */
const SESSION_ROUTES = ['/webrtc/sessions/:id', '/whip/:id', '/sessions/:id/events', '/sessions/:id/ws', '/sessions/:id/whep', '/sessions/:id/whep/:viewer'];
const OFFER_ROUTE = '/webrtc/offer';

/** Whether a route (its full URL template) serves one session, so that its requests may need forwarding. */
export function isSessionRoute(url: string, basePath: string): boolean {
  const path = url.slice(basePath.length);
  return url.startsWith(basePath) && (SESSION_ROUTES.includes(path) || path === OFFER_ROUTE);
}

/** Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus those the proxy sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length']);

function copyHeaders(from: IncomingHttpHeaders, keepUpgrade: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(from)) {
    if (v === undefined || (HOP_BY_HOP.has(k) && !(keepUpgrade && (k === 'connection' || k === 'upgrade')))) continue;
    out[k] = v;
  }
  return out;
}

/** The hook of `forwardToOwner`, and the relays it holds open (SSE streams, WebSockets) for a server that closes. */
export interface SessionForwarding {
  hook: preValidationAsyncHookHandler;
  /** Ends every relay in progress (at shutdown: a relayed stream lasts as long as another node's session). */
  closeAll(): void;
}

/**
 * The hook (first of a session route's pre-validation) that sends a request for a session held by another node of the
 * fleet to that node, and relays its answer: plain HTTP (streamed, so Server-Sent Events flow), or a WebSocket upgrade
 * piped both ways. The load balancer in front of the fleet can then send any request to any node. A request for a
 * session no node holds goes on to its route, which answers 404 as a lone server would. `answerTimeoutMs` bounds the
 * wait for the owner's answer (not a stream's length): above the longest the owner may take (ICE gathering).
 */
export function forwardToOwner(fleet: Fleet, isLocal: (sessionId: string) => boolean, answerTimeoutMs = 10_000): SessionForwarding {
  const relays = new Set<() => void>();
  const hook: preValidationAsyncHookHandler = async function forward(req, reply) {
    if (req.headers[FORWARDED_BY] !== undefined) return;
    const id = sessionIdOf(req);
    if (id === undefined || isLocal(id)) return;
    const owner = await fleet.ownerOf(id);
    if (!owner) return;
    req.log.debug({ session_id: id, owner: owner.nodeId }, 'request forwarded to the node holding the session');
    let answer: Answer;
    try {
      answer = await send(req, owner, fleet.nodeId, req.ws, answerTimeoutMs);
    } catch (err) {
      throw unreachable(owner, err as Error);
    }
    // The relay is this hook's: nothing else of the route runs, whatever becomes of either connection.
    void reply.hijack();
    const end = req.ws ? relayUpgrade(req.raw.socket, answer) : relayHttp(reply, answer.res);
    relays.add(end);
    answer.res.once('close', () => relays.delete(end));
  };
  return {
    hook,
    closeAll: () => {
      for (const end of relays) end();
      relays.clear();
    },
  };
}

function sessionIdOf(req: FastifyRequest): string | undefined {
  const params = req.params as { id?: unknown } | undefined;
  if (typeof params?.id === 'string') return params.id;
  const body = req.body as { session_id?: unknown } | null | undefined;
  return typeof body === 'object' && body !== null && typeof body.session_id === 'string' ? body.session_id : undefined;
}

const unreachable = (owner: SessionOwner, err: Error): SightlineError =>
  new SightlineError('not_ready', `the server holding this session (${owner.nodeId}) can't be reached: ${err.message}; retry shortly`, { 'retry-after': '2' });

interface Answer {
  res: IncomingMessage;
  /** An upgrade's socket to the owner, and what came after its 101. */
  socket?: Duplex;
  head?: Buffer;
}

/** Opens the request to the owner; resolves on its answer (or its 101 for an upgrade). */
function send(req: FastifyRequest, owner: SessionOwner, nodeId: string, upgrade: boolean, timeoutMs: number): Promise<Answer> {
  const target = new URL(req.raw.url ?? '/', owner.url);
  const headers = copyHeaders(req.headers, upgrade);
  headers[FORWARDED_BY] = nodeId;
  headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.ip].filter(Boolean).join(', ');
  // The body as parsed (JSON or SDP text), written out again: what the owner's parser reads is what this node read.
  const body = req.body === undefined || req.body === null ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const out = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method: req.method, headers, timeout: timeoutMs }, (res) =>
      resolve({ res }),
    );
    if (upgrade) out.on('upgrade', (res, socket, head) => resolve({ res, socket, head }));
    out.on('timeout', () => out.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    out.on('error', reject);
    // Only the wait for the answer is bounded: an answer that streams (SSE) may last as long as its session.
    out.on('response', () => out.setTimeout(0));
    out.end(body);
  });
}

/** The owner's answer to the client, status and headers (the CORS headers this node set too), then the body streamed. */
function relayHttp(reply: FastifyReply, res: IncomingMessage): () => void {
  const raw = reply.raw;
  const end = (): void => {
    res.destroy();
    raw.destroy();
  };
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
  raw.writeHead(res.statusCode ?? 502, Object.assign(headers, copyHeaders(res.headers, false)));
  res.pipe(raw);
  // The client went away (an SSE reader closed), or the owner did: so does the other side.
  raw.once('close', end);
  res.once('error', end);
  return end;
}

/** A WebSocket upgrade: the owner's 101 (or refusal) is written to the client's socket, then bytes flow both ways. */
function relayUpgrade(client: Duplex, { res, socket, head }: Answer): () => void {
  const end = (): void => {
    client.destroy();
    socket?.destroy();
    res.destroy();
  };
  // The client left while the owner was answering.
  if (client.destroyed) {
    end();
    return end;
  }
  const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  client.write(`${lines.join('\r\n')}\r\n\r\n`);
  client.on('error', end).on('close', end);
  if (!socket) {
    // Refused by the owner (its error body follows): relayed, then the connection closes.
    res.pipe(client);
    return end;
  }
  if (head && head.length > 0) client.write(head);
  socket.pipe(client).pipe(socket);
  socket.on('error', end).on('close', end);
  return end;
}
