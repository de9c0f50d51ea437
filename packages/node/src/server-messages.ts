import type { CaptureHintMessage, FrameAckMessage, ResultMessage, ServerMessage } from '@sightline/protocol/wire';
import type { StreamError } from './stream-client.js';

export interface ServerMessageHandlers {
  result(msg: ResultMessage): void;
  frameAck?(msg: FrameAckMessage): void;
  error(msg: StreamError): void;
  captureHint(msg: CaptureHintMessage): void;
}

/**
 * One text message from the server (DataChannel or WebSocket) to its handler. Messages that are not JSON, and types a
 * client does not act on (pong, ack, speech events…), are ignored; the caller counts nothing lost, as none is a result.
 */
export function dispatchServerMessage(text: string, on: ServerMessageHandlers): ServerMessage | undefined {
  let msg: ServerMessage;
  try {
    msg = JSON.parse(text) as ServerMessage;
  } catch {
    return undefined;
  }
  switch (msg.type) {
    case 'result':
      on.result(msg);
      break;
    case 'frame_ack':
      on.frameAck?.(msg);
      break;
    case 'error':
      on.error(msg);
      break;
    case 'capture_hint':
      on.captureHint(msg);
      break;
  }
  return msg;
}
