import { ClusterResponse } from '@sightline/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Fleet } from '../cluster/fleet.js';
import type { KeyStore } from '../auth/key-store.js';
import { authenticate } from './auth.js';
import { API_KEY, AUTH_ERRORS, errors, json } from './openapi/route-docs.js';

export interface ClusterRoutesOptions {
  keys: KeyStore;
  fleet: Fleet;
}

/** GET {base}/v1/cluster: the fleet's live nodes as they last reported (sessions, capacity, load), for operators and autoscalers. */
export const clusterRoutes: FastifyPluginAsyncZod<ClusterRoutesOptions> = async (app, opts) => {
  app.get(
    '/v1/cluster',
    {
      schema: {
        tags: ['Operations'],
        summary: "The fleet's nodes, their load and sessions",
        description:
          'Every live node sharing this one\'s Redis (`--redis-url`), as it reported itself within the last seconds; a lone server lists itself (`mode: "single"`). 503 while Redis is unreachable.',
        security: API_KEY,
        response: { 200: json('the nodes', ClusterResponse), ...errors(...AUTH_ERRORS, 503) },
      },
      onRequest: async (req) => {
        req.keyId = authenticate(req, opts.keys);
      },
    },
    async (req) => {
      const { fleet } = opts;
      const [nodes, counts] = await Promise.all([fleet.nodes(), fleet.sessionCounts(req.keyId!)]);
      return { node_id: fleet.nodeId, mode: fleet.mode, nodes, sessions: counts.all, key_sessions: counts.key };
    },
  );
};
