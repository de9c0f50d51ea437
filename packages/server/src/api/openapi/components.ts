import * as P from '@sightline/protocol';
import type { z } from 'zod';
import * as D from './doc-schemas.js';

/**
 * Every schema the OpenAPI document names, by component name: the protocol's zod schemas (the ones the routes and
 * clients validate with; DataChannel/WebSocket messages included as documentation) and the doc-only ones.
 */
export const COMPONENT_SCHEMAS = {
  ErrorCode: P.ErrorCode,
  ErrorBody: P.ErrorBody,
  OfferRequest: P.OfferRequest,
  OfferResponse: P.OfferResponse,
  HealthResponse: P.HealthResponse,
  ReadyResponse: P.ReadyResponse,
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
  // Doc-only shapes.
  LivenessResponse: D.LivenessResponse,
  IceServersResponse: D.IceServersResponse,
  ModelsResponse: D.ModelsResponse,
  ProcessorsResponse: D.ProcessorsResponse,
  WhepViewersResponse: D.WhepViewersResponse,
  DemoConfig: D.DemoConfig,
  StoredSession: D.StoredSession,
  SessionsPage: D.SessionsPage,
  StoredSessionDetail: D.StoredSessionDetail,
  StoredResult: D.StoredResult,
  ResultsPage: D.ResultsPage,
  StoredEvent: D.StoredEvent,
  EventsPage: D.EventsPage,
} satisfies Record<string, z.ZodType>;

export type ComponentName = keyof typeof COMPONENT_SCHEMAS;
