import { z } from 'zod';

/*
 * Response bodies of the server's other routes (discovery, ICE servers, WHEP, demo config, session history). The
 * routes declare them, so every response is serialized through them and the OpenAPI document describes them.
 */

/** GET /healthz */
export const LivenessResponse = z.object({ status: z.literal('ok') });

/** GET {base}/webrtc/ice-servers */
export const IceServersResponse = z.object({
  iceServers: z.array(z.object({ urls: z.array(z.string()), username: z.string().optional(), credential: z.string().optional() })),
  expires_at: z.number().int().optional().describe('Unix seconds at which the TURN credentials expire (with TURN only)'),
  ttl: z.number().int().optional().describe('Lifetime of the TURN credentials, seconds'),
});

const ValueInfo = z.object({ name: z.string() }).catchall(z.unknown());

/** GET {base}/v1/models */
export const ModelsResponse = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      adapter: z.string(),
      kind: z.enum(['detector', 'classifier']),
      file: z.string(),
      inputs: z.array(ValueInfo),
      outputs: z.array(ValueInfo),
      input: z.record(z.string(), z.unknown()),
      labels: z.array(z.string()).nullable(),
      dynamic_batch: z.boolean(),
      max_batch: z.number().int(),
      device: z.string(),
    }),
  ),
});

const JsonSchemaObject = z.record(z.string(), z.unknown()).describe('JSON Schema of the params');

/** GET {base}/v1/processors */
export const ProcessorsResponse = z.object({
  default: z.string(),
  processors: z.array(z.object({ name: z.string(), description: z.string(), models: z.array(z.string()), params: JsonSchemaObject })),
  audio_processors: z.array(z.object({ name: z.string(), description: z.string(), params: JsonSchemaObject })),
});

/** DELETE {base}/sessions/:id/whep/:viewer */
export const WhepViewersResponse = z.object({ session_id: z.string(), viewers: z.number().int() });

/** GET /demo-config.json */
export const DemoConfig = z.object({ basePath: z.string(), devKey: z.string().optional() });

/** One stored session (history); counters are null until it has ended. */
export const StoredSession = z.object({
  session_id: z.string(),
  tenant: z.string(),
  key_id: z.string().nullable(),
  user_id: z.string().nullable(),
  processor: z.string().describe('the processor in force last (after any set)'),
  params: z.record(z.string(), z.unknown()),
  transport: z.string().describe('webrtc, whip or ws'),
  started_at: z.number().describe('epoch ms'),
  ended_at: z.number().nullable(),
  end_reason: z.string().nullable(),
  frames_received: z.number().int().nullable(),
  frames_processed: z.number().int().nullable(),
  frames_dropped: z.number().int().nullable(),
  frames_rejected: z.number().int().nullable(),
  results_sent: z.number().int().nullable(),
  results_undelivered: z.number().int().nullable(),
  rtt_p50: z.number().nullable(),
  rtt_p95: z.number().nullable(),
  inference_ms_p50: z.number().nullable(),
  inference_ms_p95: z.number().nullable(),
});

/** GET {base}/v1/sessions */
export const SessionsPage = z.object({ sessions: z.array(StoredSession), next_cursor: z.string().nullable().describe('null on the last page') });

/** GET {base}/v1/sessions/:id */
export const StoredSessionDetail = StoredSession.extend({
  params_history: z.array(z.object({ processor: z.string(), params: z.record(z.string(), z.unknown()), at: z.number() })),
});

/** One stored result: the result message as sent, with a cursor. */
export const StoredResult = z.object({
  cursor: z.string().describe('pass as `after` for the results recorded after this one'),
  frame_id: z.number().int().nullable(),
  at: z.number().describe('epoch ms'),
  result: z.record(z.string(), z.unknown()).describe('the ResultMessage JSON as recorded'),
});

/** GET {base}/v1/sessions/:id/results */
export const ResultsPage = z.object({ results: z.array(StoredResult), next_cursor: z.string().nullable() });

/** A stored event (GET /v1/sessions/:id/events): a message the session sent besides results. */
export const StoredEvent = z.object({ cursor: z.string(), type: z.string(), at: z.number().int(), data: z.unknown() });
export const EventsPage = z.object({ events: z.array(StoredEvent), next_cursor: z.string().nullable() });

export type LivenessResponse = z.infer<typeof LivenessResponse>;
export type IceServersResponse = z.infer<typeof IceServersResponse>;
export type ModelsResponse = z.infer<typeof ModelsResponse>;
export type ProcessorsResponse = z.infer<typeof ProcessorsResponse>;
export type WhepViewersResponse = z.infer<typeof WhepViewersResponse>;
export type DemoConfig = z.infer<typeof DemoConfig>;
export type StoredSession = z.infer<typeof StoredSession>;
export type SessionsPage = z.infer<typeof SessionsPage>;
export type StoredSessionDetail = z.infer<typeof StoredSessionDetail>;
export type StoredResult = z.infer<typeof StoredResult>;
export type ResultsPage = z.infer<typeof ResultsPage>;
export type StoredEvent = z.infer<typeof StoredEvent>;
export type EventsPage = z.infer<typeof EventsPage>;
