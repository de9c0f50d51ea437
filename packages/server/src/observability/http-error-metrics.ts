import type { FastifyInstance } from 'fastify';

/** Where HTTP error codes go: `ServerMetrics.onError`. */
export interface ErrorSink {
  onError(code: string): void;
}

/** The code of a body in the project's error format, `{"error":{"code":"…",…}}`. */
const CODE = /^\s*\{\s*"error"\s*:\s*\{\s*"code"\s*:\s*"([a-z_]{1,64})"/;

/**
 * Counts every HTTP error body sent (status ≥ 400) by its code. Call on the root instance before registering routes,
 * so that every route and the 404 handler inherit the hook; success responses only cost a status check.
 */
export function countHttpErrors(app: FastifyInstance, sink: ErrorSink): void {
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (reply.statusCode >= 400 && typeof payload === 'string') {
      const m = CODE.exec(payload);
      if (m) sink.onError(m[1]!);
    }
    done(null, payload);
  });
}
