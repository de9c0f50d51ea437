/**
 * Issues the fuzz suite found in code it may not change (packages/server/src/api/, owned elsewhere), reported and
 * tolerated here so the bounded pass stays green until they are fixed: each answer matching one is counted in the
 * report's "known" column instead of failing. A 5xx is never a known issue. Delete an entry once its fix lands; the
 * bounded pass then holds the line.
 */

/** What the checks read of an HTTP answer (an injected response, or a refused WebSocket upgrade). */
export interface HttpAnswer {
  statusCode: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface KnownIssue {
  id: string;
  summary: string;
  /** Whether this answer to `method url` is the issue (it is not a 5xx). */
  matches(method: string, url: string, res: HttpAnswer): boolean;
}

/**
 * None now. The first three the suite found (Fastify's own bodies for a malformed %-escape in a path and for a path
 * parameter over 100 characters; an empty 404 for a plain GET of a WebSocket route) were fixed in api/app.ts: the
 * bounded pass now fails on them.
 */
export const KNOWN_ISSUES: readonly KnownIssue[] = [];
