import { ClientMessage, describeZodError, MAX_CLIENT_MESSAGE_BYTES, type ErrorMessage, type ServerMessage } from '@sightline/protocol';
import { SightlineError } from '../errors.js';
import type { Processor } from '../pipeline/processor.js';

/** The processor and params a session runs now. */
export interface ControlState {
  processor: string;
  params: Record<string, unknown>;
}

/** What the session must do about one control message. */
export type ControlOutcome =
  /** Answer on the channel the message came on (pong, error). */
  | { kind: 'reply'; message: ServerMessage }
  /** Switch to this processor and params (already resolved and allowed), then acknowledge with `ack`. */
  | { kind: 'apply'; processor: Processor<unknown>; name: string; params: unknown; ack: ServerMessage };

export interface ControlChannelOptions {
  /** Resolves a processor by name with params (defaults applied); throws a SightlineError (unknown, invalid). */
  resolve(name: string, params: unknown): { processor: Processor<unknown>; params: unknown };
  /** Throws a SightlineError (`forbidden`) when the key may not use this processor with these params. */
  check(processor: Processor<unknown>, params: unknown): void;
  /** Epoch ms, for `pong.server_ms`. */
  now?: () => number;
}

/**
 * The control messages a client sends on its DataChannel (`ping`, `set`), parsed and decided without any I/O: a
 * text message and the session's current state in, the reply or the change to apply out. Binary messages (encoded
 * frames) are not its business. Every mistake becomes an `error` message with the request's `id`; nothing throws.
 */
export class ControlChannel {
  readonly #opts: ControlChannelOptions;

  constructor(opts: ControlChannelOptions) {
    this.#opts = opts;
  }

  handle(text: string, state: ControlState): ControlOutcome {
    const error = (code: ErrorMessage['code'], message: string, id?: string | number): ControlOutcome => ({
      kind: 'reply',
      message: { type: 'error', code, message, ...(id !== undefined ? { id } : {}) },
    });
    if (text.length > MAX_CLIENT_MESSAGE_BYTES) return error('invalid_message', `message over ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return error('invalid_message', 'message is not JSON');
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      const type = (json as { type?: unknown } | null)?.type;
      return typeof type === 'string' && type !== 'ping' && type !== 'set'
        ? error('unsupported_message', `unknown message type "${type.slice(0, 32)}"; supported: ping, set`)
        : error('invalid_message', describeZodError(parsed.error));
    }
    const msg = parsed.data;
    if (msg.type === 'ping') {
      return { kind: 'reply', message: { type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}), server_ms: (this.#opts.now ?? Date.now)() } };
    }
    const target = msg.processor ?? state.processor;
    // Same processor: params merge over the current ones. Another processor: its defaults, then these params.
    const merged = target === state.processor ? { ...state.params, ...msg.params } : (msg.params ?? {});
    try {
      const resolved = this.#opts.resolve(target, merged);
      this.#opts.check(resolved.processor, resolved.params);
      return {
        kind: 'apply',
        processor: resolved.processor,
        name: target,
        params: resolved.params,
        ack: { type: 'ack', ...(msg.id !== undefined ? { id: msg.id } : {}), processor: target, params: resolved.params as Record<string, unknown> },
      };
    } catch (err) {
      // Unknown processor, bad params, a processor the key may not use: the client's mistake, told on its channel.
      if (err instanceof SightlineError) return error(err.code, err.message, msg.id);
      throw err;
    }
  }
}
