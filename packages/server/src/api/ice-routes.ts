import { IceServersResponse } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authenticate } from './auth.js';
import type { KeyStore } from '../auth/key-store.js';
import { turnCredentials } from './turn-credentials.js';
import { API_KEY, AUTH_ERRORS, errors, json } from './openapi/route-docs.js';

export interface IceRoutesOptions {
  keys: KeyStore;
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | undefined;
  turnTtlSeconds: number;
}

/** GET {base}/webrtc/ice-servers: the ICE servers a client should use, with fresh TURN credentials. */
export const iceRoutes: FastifyPluginAsyncZod<IceRoutesOptions> = async (app, opts) => {
  app.get('/webrtc/ice-servers', {
    schema: {
      tags: ['WebRTC'],
      summary: 'STUN/TURN servers for clients, with fresh TURN credentials',
      security: API_KEY,
      response: { 200: json('ICE servers', IceServersResponse), ...errors(...AUTH_ERRORS) },
    },
    onRequest: async (req) => {
      req.keyId = authenticate(req, opts.keys);
    },
    handler: async (req, reply) => {
      const iceServers: Array<{ urls: string[]; username?: string; credential?: string }> = [];
      if (opts.stunUrls.length > 0) iceServers.push({ urls: opts.stunUrls });
      let expiresAt: number | undefined;
      if (opts.turnUrls.length > 0 && opts.turnSecret) {
        // The tag is the key's id, never the key: coturn logs usernames.
        const c = turnCredentials(opts.turnSecret, opts.turnTtlSeconds, req.keyId!, Date.now());
        iceServers.push({ urls: opts.turnUrls, username: c.username, credential: c.credential });
        expiresAt = c.expiresAt;
      }
      void reply.header('cache-control', 'no-store');
      return { iceServers, ...(expiresAt !== undefined ? { expires_at: expiresAt, ttl: opts.turnTtlSeconds } : {}) };
    },
  });
};
