import type { KeyPolicy } from '../auth/key-policy.js';
import type { SessionObserver } from '../session/session-observer.js';
import type { SessionStore } from './store.js';

/** Messages kept as events (besides results): what audio processors said, errors, the drain notice. */
const EVENT_TYPES = new Set(['speech_start', 'speech_end', 'error', 'draining']);

/**
 * Writes sessions into the history store: start, params changes, results (all, none, or a random sample as the
 * key's `store_results` says, read at each result so a keys file reload applies), events and the end with its
 * counters. Only buffers (the store flushes in batches).
 */
export function storeObserver(store: SessionStore, policyOf: (keyId: string) => KeyPolicy | undefined): SessionObserver {
  return {
    sessionStarted: (s) => store.recordSessionStart({ ...s, keyId: s.keyId }),
    paramsChanged: (s, processor, params, at) => store.recordParamsChange(s.id, { processor, params, at }),
    messageSent: (s, msg, text) => {
      if (msg.type === 'result') {
        const keep = policyOf(s.keyId)?.storeResults ?? 'all';
        if (keep === 'all' || (typeof keep === 'number' && Math.random() < keep)) store.recordResult(s.id, text, msg.timing.received_ms);
      } else if (EVENT_TYPES.has(msg.type)) {
        const { type, ...data } = msg;
        store.recordEvent(s.id, { type, at: Date.now(), data });
      }
    },
    sessionEnded: (s, summary, latency) =>
      store.recordSessionEnd(s.id, {
        endedAt: Date.now(),
        endReason: summary.end_reason ?? 'unknown',
        framesReceived: summary.frames_received,
        framesProcessed: summary.frames_processed,
        framesDropped: summary.frames_dropped,
        framesRejected: summary.frames_rejected ?? 0,
        resultsSent: summary.results_sent,
        resultsUndelivered: summary.results_undelivered,
        // The server cannot see the client's RTT; it stores its own frame latency (received → result sent).
        rttP50: null,
        rttP95: null,
        inferenceMsP50: latency.inferenceMsP50,
        inferenceMsP95: latency.inferenceMsP95,
      }),
  };
}
