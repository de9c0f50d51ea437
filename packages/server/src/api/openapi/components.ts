import * as P from '@sightline/protocol';
import { z } from 'zod';

/**
 * Every schema the OpenAPI document names, by component name: the protocol's zod schemas, the ones the routes and
 * clients validate with (DataChannel/WebSocket messages included, as documentation of those channels).
 */
export const COMPONENT_SCHEMAS = {
  ErrorCode: P.ErrorCode,
  ErrorBody: P.ErrorBody,
  OfferRequest: P.OfferRequest,
  OfferResponse: P.OfferResponse,
  HealthResponse: P.HealthResponse,
  ReadyResponse: P.ReadyResponse,
  ClusterNode: P.ClusterNode,
  ClusterResponse: P.ClusterResponse,
  SessionSummary: P.SessionSummary,
  // DataChannel / WebSocket messages, server → client.
  Box: P.Box,
  Timing: P.Timing,
  ResultMessage: P.ResultMessage,
  ErrorMessage: P.ErrorMessage,
  PongMessage: P.PongMessage,
  AckMessage: P.AckMessage,
  FrameAckMessage: P.FrameAckMessage,
  ReadyMessage: P.ReadyMessage,
  DrainingMessage: P.DrainingMessage,
  CaptureHintMessage: P.CaptureHintMessage,
  SpeechStartMessage: P.SpeechStartMessage,
  SpeechEndMessage: P.SpeechEndMessage,
  AudioLevelMessage: P.AudioLevelMessage,
  ServerMessage: P.ServerMessage,
  // Client → server.
  PingMessage: P.PingMessage,
  SetMessage: P.SetMessage,
  ClientMessage: P.ClientMessage,
  HelloMessage: P.HelloMessage,
  // Other routes' bodies.
  LivenessResponse: P.LivenessResponse,
  IceServersResponse: P.IceServersResponse,
  ModelsResponse: P.ModelsResponse,
  ProcessorsResponse: P.ProcessorsResponse,
  WhepViewersResponse: P.WhepViewersResponse,
  DemoConfig: P.DemoConfig,
  StoredSession: P.StoredSession,
  SessionsPage: P.SessionsPage,
  StoredSessionDetail: P.StoredSessionDetail,
  StoredResult: P.StoredResult,
  ResultsPage: P.ResultsPage,
  StoredEvent: P.StoredEvent,
  EventsPage: P.EventsPage,
} satisfies Record<string, z.ZodType>;

export type ComponentName = keyof typeof COMPONENT_SCHEMAS;

let registered = false;

/**
 * Names the components in zod's global registry (keeping each schema's description), so that wherever a route uses
 * one of these schemas the document has a `$ref` to it. Idempotent.
 */
export function registerComponents(): void {
  if (registered) return;
  registered = true;
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) {
    const meta = z.globalRegistry.get(schema);
    z.globalRegistry.remove(schema);
    z.globalRegistry.add(schema, { ...meta, id });
  }
}
