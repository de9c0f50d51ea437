import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import { DemoConfig } from '@sightline/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { json, PUBLIC, text } from './openapi/route-docs.js';

export interface DemoRoutesOptions {
  /** Folder with the built demo page; when missing, `/` explains how to build it. */
  dir: string;
  basePath: string;
  /** The generated development key, handed only to pages loaded from this machine. */
  devKey?: string;
}

const isLoopback = (ip: string): boolean => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';

/** A Host header naming this machine's loopback: localhost, 127.x.x.x or [::1], with any port. */
export const isLoopbackHost = (host: string | undefined): boolean =>
  host !== undefined && /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i.test(host.trim());

/**
 * The dev key goes only to the demo page itself, loaded from this machine: a same-origin fetch (browsers mark it
 * with Sec-Fetch-Site) from a loopback address, to a loopback host name, with no proxy in between. A page of another
 * site gets no key; nor does a DNS-rebinding page (its Host is its own name, though the browser calls it
 * same-origin), nor anything relayed by a proxy on this machine (Forwarded / X-Forwarded-* headers).
 */
export function mayHaveDevKey(req: Pick<FastifyRequest, 'ip' | 'headers'>): boolean {
  const h = req.headers;
  if (h.forwarded !== undefined || Object.keys(h).some((name) => name.startsWith('x-forwarded-'))) return false;
  if (!isLoopback(req.ip) || !isLoopbackHost(h.host)) return false;
  const site = h['sec-fetch-site'];
  return site === 'same-origin' || (site === undefined && h.origin === undefined);
}

/** The demo page at `/`, and the little config it reads at start. */
export const demoRoutes: FastifyPluginAsync<DemoRoutesOptions> = async (app, opts) => {
  const tags = ['Demo'];
  const config = {
    schema: {
      tags,
      summary: "The demo page's config (base path; the dev key for same-origin loopback pages)",
      security: PUBLIC,
      response: { 200: json('config', DemoConfig) },
    },
  };
  app.get('/demo-config.json', config, async (req) => ({
    basePath: opts.basePath,
    ...(opts.devKey && mayHaveDevKey(req) ? { devKey: opts.devKey } : {}),
  }));
  const page = { tags, summary: 'The demo page', security: PUBLIC, response: { 200: text('HTML (or how to build it)', 'text/html') } };
  if (existsSync(opts.dir)) {
    await app.register(fastifyStatic, { root: opts.dir, prefix: '/', index: false, wildcard: false });
    // The page itself, documented at `/`; the files beside it are served as they are (hidden from the document).
    app.get('/', { schema: page }, async (_req, reply) => reply.sendFile('index.html'));
  } else {
    app.get('/', { schema: page }, async (_req, reply) =>
      reply.type('text/plain').send(`The demo page is not built (${opts.dir} is missing). Run: npm run build\n`),
    );
  }
};
