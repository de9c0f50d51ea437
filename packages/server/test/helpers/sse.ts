import assert from 'node:assert/strict';

export interface SseEvent<T = Record<string, unknown>> {
  event: string;
  data: T;
}

/**
 * Reads Server-Sent Events from `url` (checking the 200 and the content type) until the stream ends or `timeoutMs`
 * passes. Events are pushed into `events` as they arrive, so a caller can look while it runs; `onOpen` runs once the
 * server has answered, i.e. once this reader is subscribed. Resolves with `events`.
 */
export async function readSse<T = Record<string, unknown>>(
  url: string,
  opts: { headers: Record<string, string>; timeoutMs: number; events?: Array<SseEvent<T>>; onOpen?: () => void },
): Promise<Array<SseEvent<T>>> {
  const events = opts.events ?? [];
  const res = await fetch(url, { headers: opts.headers, signal: AbortSignal.timeout(opts.timeoutMs) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  opts.onOpen?.();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) as T });
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') throw err;
  }
  return events;
}
