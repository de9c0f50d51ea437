import { z } from 'zod';
import { AudioLevelMessage, SpeechEndMessage, SpeechStartMessage } from './audio.js';
import { ErrorCode } from './errors.js';
import { storedText } from './stored-text.js';

/**
 * One detection. `box` is [x, y, width, height] in pixels of the frame as the server received it: the result's own
 * `width` × `height`, which may be smaller than what the client captured (encoder scaling, capture hints).
 */
export const Box = z.object({
  class: z.string(),
  score: z.number().optional(),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
});
export type Box = z.infer<typeof Box>;

/** Server-side timing of one frame, in milliseconds. `received_ms` is a Unix epoch time. */
export const Timing = z.object({
  received_ms: z.number(),
  queue_ms: z.number(),
  inference_ms: z.number(),
  total_ms: z.number(),
  /** Frames (of any sessions) that shared this frame's model run. */
  batch_size: z.number().int().positive().optional(),
  /** Stages of that run (whole batch): resize + colour conversion, the model itself, decoding + NMS. */
  preprocess_ms: z.number().optional(),
  model_ms: z.number().optional(),
  decode_ms: z.number().optional(),
});
export type Timing = z.infer<typeof Timing>;

/**
 * Server → client, one per processed frame. `frame_id` is the index of the frame among the frames the
 * server decoded on this session (0, 1, 2, …); `dropped` counts frames replaced before processing so far.
 */
export const ResultMessage = z.object({
  type: z.literal('result'),
  frame_id: z.number().int().nonnegative(),
  boxes: z.array(Box),
  width: z.number().int(),
  height: z.number().int(),
  processor: z.string(),
  timing: Timing,
  dropped: z.number().int().nonnegative(),
  /** Classifiers: top labels, best first. */
  labels: z.array(z.object({ class: z.string(), score: z.number() })).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  /** Frames sent as JPEG/WebP chunks: the capture timestamp from the chunk header, echoed for RTT. */
  client_ts_ms: z.number().optional(),
  /**
   * Frames from a video track (engines that know it): the RTP timestamp of the frame as the client sent it, which
   * names the frame exactly. Match a result to the frame you sent by it; `frame_id` is derived from it.
   */
  rtp_timestamp: z.number().int().min(0).max(0xffffffff).optional(),
});
export type ResultMessage = z.infer<typeof ResultMessage>;

/** Server → client when something the client sent, or the processing of a frame, failed. */
export const ErrorMessage = z.object({
  type: z.literal('error'),
  code: ErrorCode,
  message: z.string(),
  frame_id: z.number().int().optional(),
  /** The `id` of the client message this answers, if it had one. */
  id: z.union([z.string(), z.number()]).optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** Server → client reply to `ping`, for clock-free RTT measurement on the DataChannel. */
export const PongMessage = z.object({
  type: z.literal('pong'),
  id: z.union([z.string(), z.number()]).optional(),
  server_ms: z.number(),
});
export type PongMessage = z.infer<typeof PongMessage>;

/** Server → client: a `set` was applied; carries the processor and the full params now in force. */
export const AckMessage = z.object({
  type: z.literal('ack'),
  id: z.union([z.string(), z.number()]).optional(),
  processor: z.string(),
  params: z.record(z.string(), z.unknown()),
});
export type AckMessage = z.infer<typeof AckMessage>;

/**
 * Server → client, once per encoded frame (JPEG/WebP chunks) when the server is done with it: `processed` (its
 * result was sent just before), `dropped` (a newer frame replaced it while the model was busy), `failed` (the
 * processor failed; an error was sent) or `rejected` (malformed, too large, not an image; an error was sent).
 * Clients keep at most their window of frames unacknowledged.
 */
export const FrameAckMessage = z.object({
  type: z.literal('frame_ack'),
  frame_id: z.number().int().nonnegative(),
  status: z.enum(['processed', 'dropped', 'failed', 'rejected']),
});
export type FrameAckMessage = z.infer<typeof FrameAckMessage>;

/** Server → client on the WebSocket bridge once the session exists (after auth). */
export const ReadyMessage = z.object({
  type: z.literal('ready'),
  session_id: z.string(),
  processor: z.string(),
  params: z.record(z.string(), z.unknown()),
});
export type ReadyMessage = z.infer<typeof ReadyMessage>;

/**
 * Server → client when the server begins a graceful shutdown: no new sessions here; this one keeps being served
 * for up to `deadline_ms` more milliseconds, then ends. Clients should reconnect elsewhere (the SDK does).
 */
export const DrainingMessage = z.object({
  type: z.literal('draining'),
  deadline_ms: z.number().int().nonnegative(),
});
export type DrainingMessage = z.infer<typeof DrainingMessage>;

/**
 * Server → client: what input is enough for the session's processor, so that the client sends (and the server
 * decodes) no more pixels or frames than the model uses. Scale the picture down, keeping its aspect ratio, until it
 * fits in `max_width` × `max_height`, and send at most `max_fps` frames per second; `null` means no limit. Sent once
 * the first frame arrived (the server then knows the picture's shape), and again whenever the processor, its params,
 * the key's fps limit or the picture's shape change. A hint only ever asks for less; clients that ignore it still work.
 */
export const CaptureHintMessage = z.object({
  type: z.literal('capture_hint'),
  max_width: z.number().int().positive().nullable(),
  max_height: z.number().int().positive().nullable(),
  max_fps: z.number().positive().nullable(),
});
export type CaptureHintMessage = z.infer<typeof CaptureHintMessage>;

export const ServerMessage = z.discriminatedUnion('type', [
  DrainingMessage,
  CaptureHintMessage,
  ResultMessage,
  ErrorMessage,
  PongMessage,
  AckMessage,
  FrameAckMessage,
  ReadyMessage,
  SpeechStartMessage,
  SpeechEndMessage,
  AudioLevelMessage,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** Client → server on any DataChannel of the session. */
export const PingMessage = z.object({
  type: z.literal('ping'),
  id: z.union([z.string().max(64), z.number()]).optional(),
});
export type PingMessage = z.infer<typeof PingMessage>;

/**
 * Client → server: switch processor and/or params without reconnecting. `params` are merged over the current ones
 * when the processor stays; a new processor starts from its defaults. Answered by `ack` or `error` (same `id`).
 */
export const SetMessage = z.object({
  type: z.literal('set'),
  id: z.union([z.string().max(64), z.number()]).optional(),
  processor: z.string().min(1).max(64).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type SetMessage = z.infer<typeof SetMessage>;

export const ClientMessage = z.discriminatedUnion('type', [PingMessage, SetMessage]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/**
 * Client → server, first message on the WebSocket bridge (`GET {base}/ws`) when the connection carried no
 * `api-key`/`Authorization` header (browsers cannot set headers on WebSockets). Answered by `ready`, or an error
 * and a close code 4000 + the HTTP status of the same failure. With a header the session starts at once from the
 * query string (`?processor=&user_id=&params=<JSON>&record=1`) and no hello is sent.
 */
export const HelloMessage = z.object({
  type: z.literal('hello'),
  api_key: z.string().min(1).max(512).optional(),
  user_id: storedText(256).nullish(),
  processor: z.string().min(1).max(64).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /** Record the session (the server must run with `--record-dir`). */
  record: z.boolean().optional(),
});
export type HelloMessage = z.infer<typeof HelloMessage>;

/** Largest DataChannel message the server reads from a client; larger ones get an `invalid_message` error. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
