import { z } from 'zod';
import { CaptureHintMessage } from './messages.js';
import { storedText } from './stored-text.js';

/** Processor names: lowercase words joined by '-', as registered on the server. */
export const ProcessorName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'processor names are lowercase letters, digits, "-" and "_"');

/** Free-form processor parameters; each processor validates them with its own schema. */
export const ProcessorParams = z.record(z.string(), z.unknown());

/**
 * POST {base}/webrtc/offer body. `sdp`, `type` and `user_id` are the seed API's contract;
 * `user_id` may be null (the seed's Python client sends `None` when it has no user).
 */
export const OfferRequest = z.object({
  sdp: z.string().min(1, 'sdp is empty'),
  type: z.literal('offer', { error: 'type must be "offer"' }),
  user_id: storedText(256).nullish(),
  processor: ProcessorName.optional(),
  params: ProcessorParams.optional(),
  /**
   * Renegotiate this live session (ICE restart after a network change) instead of opening a new one: the session
   * keeps its id, processor, params and counters. Unknown or ended sessions get 404 `session_not_found`.
   */
  session_id: storedText(64).min(1).optional(),
  /**
   * Trickle ICE: answer at once, before the server's candidates are gathered. Candidates then flow both ways by
   * `PATCH {session_url}` with `application/trickle-ice-sdpfrag` (RFC 8840); each reply carries the server's new
   * candidates, and `a=end-of-candidates` once it has no more.
   */
  trickle: z.boolean().optional(),
  /**
   * `results` (default): results on the DataChannel. `video` / `both`: the server also sends a video track back —
   * each processed frame as the processor renders it (boxes drawn; `edges`, `blur-faces` transform the picture).
   * The offer's video must be sendrecv for that.
   */
  mode: z.enum(['results', 'video', 'both']).optional(),
  /**
   * Audio processors for the offer's audio track, by name with their params: `{"vad": {}, "audio-level":
   * {"interval_ms": 200}}`. They run beside the video processor; their messages come on the same DataChannel.
   */
  audio: z.record(ProcessorName, ProcessorParams).optional(),
  /** Record this session (video/audio file + results JSONL) on a server started with `--record-dir`. */
  record: z.boolean().optional(),
  /**
   * The size of the video the client is about to send (its track's settings). With it the answer carries the
   * capture hint, so the client's encoder starts at the right size: a size change once frames flow makes encoders
   * and decoders drop frames, which shifts frame-index matching.
   */
  capture: z.object({ width: z.number().int().min(1).max(16_384), height: z.number().int().min(1).max(16_384) }).optional(),
});
export type OfferRequest = z.infer<typeof OfferRequest>;

/** Reply to an offer. `sdp` and `type` are the seed's contract; `session_id` names the session for DELETE. */
export const OfferResponse = z.object({
  sdp: z.string(),
  type: z.literal('answer'),
  session_id: z.string(),
  processor: z.string(),
  /** Trickle offers: where to PATCH candidates. */
  session_url: z.string().optional(),
  /** With `capture` in the offer: the session's first capture hint (the same message as on the DataChannel). */
  capture_hint: CaptureHintMessage.optional(),
});
export type OfferResponse = z.infer<typeof OfferResponse>;

/** GET {base}/webrtc/health */
export const HealthResponse = z.object({ status: z.string() });
export type HealthResponse = z.infer<typeof HealthResponse>;

/** GET /readyz: `ready` is whether this node takes new sessions (a load balancer's health check reads it). */
export const ReadyResponse = z.object({
  ready: z.boolean(),
  /** Why not: models still loading (`starting`), SIGTERM received (`draining`), or `max_sessions` reached (`full`). */
  reason: z.enum(['starting', 'draining', 'full']).optional(),
  workers: z.number().int(),
  models: z.array(z.string()),
  sessions: z.number().int(),
  max_sessions: z.number().int(),
});
export type ReadyResponse = z.infer<typeof ReadyResponse>;

/** One media node of a fleet, as it last reported itself (GET {base}/v1/cluster). */
export const ClusterNode = z.object({
  node_id: z.string(),
  /** Where the other nodes reach it (`--advertise-url`). */
  url: z.string(),
  /** Whether it takes new sessions (its /readyz). */
  ready: z.boolean(),
  draining: z.boolean(),
  sessions: z.number().int(),
  max_sessions: z.number().int(),
  /** Recent wait of frames for an inference worker (ms): the node's load. */
  inference_wait_ms: z.number(),
  started_at: z.string(),
  /** How long ago it last reported (ms); nodes silent for longer than their lease are gone from the list. */
  seen_ms_ago: z.number().int(),
});
export type ClusterNode = z.infer<typeof ClusterNode>;

/** GET {base}/v1/cluster */
export const ClusterResponse = z.object({
  /** The node that answered. */
  node_id: z.string(),
  /** `redis` when nodes share state through Redis (`--redis-url`), `single` for a lone server. */
  mode: z.enum(['redis', 'single']),
  nodes: z.array(ClusterNode),
  /** Sessions across the fleet, and those of the caller's key. */
  sessions: z.number().int(),
  key_sessions: z.number().int(),
});
export type ClusterResponse = z.infer<typeof ClusterResponse>;

/** Final counters of a session, returned by DELETE {base}/webrtc/sessions/:id */
export const SessionSummary = z.object({
  session_id: z.string(),
  processor: z.string(),
  user_id: z.string().nullable(),
  frames_received: z.number().int(),
  frames_processed: z.number().int(),
  frames_dropped: z.number().int(),
  /** JPEG/WebP frames refused (malformed, too large, not an image); counted in frames_received too. */
  frames_rejected: z.number().int().optional(),
  /** Audio received (ms, from sample counts) and audio processor messages sent, when the session had audio. */
  audio_ms: z.number().optional(),
  audio_events: z.number().int().optional(),
  /** Where the recording went, when the session was recorded. */
  recording: z.object({ media: z.string(), results: z.string() }).optional(),
  results_sent: z.number().int(),
  /** Results no reader took: the channel full, or never open (counting those still held when the session ended). */
  results_undelivered: z.number().int(),
  /** Results made before the client's DataChannel opened, held and then delivered (counted in results_sent too). */
  results_held: z.number().int().optional(),
  end_reason: z.string().nullable(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;
