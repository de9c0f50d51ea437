/**
 * Target `control-messages` (pure, no server): the text messages a client sends on its DataChannel (and on the
 * WebSocket bridge), read by `ControlChannel.handle` (session/control-channel.ts) with the built-in processors and a
 * key policy that restricts processors and models; and the protocol's `ClientMessage` / `HelloMessage` schemas.
 *
 * Inputs: structured `ping`/`set` messages with valid and odd ids, processors and params; valid messages mutated as
 * text; any JSON value (prototype keys included); free text; messages over MAX_CLIENT_MESSAGE_BYTES.
 *
 * - `handle` never throws (its contract: every mistake is an `error` message); what it answers, and every ack, is a
 *   valid `ServerMessage`.
 * - Valid inputs round-trip: a ping is answered by a pong with its id; a `set` of a processor the key may use with
 *   valid params is applied and acknowledged with its id, processor and the resolved params; a refused `set` (unknown
 *   processor, bad params, forbidden) answers an error with the request's id.
 * - The schemas' `safeParse` never throws, whatever the value.
 */
import fc from 'fast-check';
import { ClientMessage, HelloMessage, MAX_CLIENT_MESSAGE_BYTES, ServerMessage } from '@sightline/protocol';
import { builtinProcessors } from '../../src/processors/builtin-processors.js';
import { ControlChannel, type ControlState } from '../../src/session/control-channel.js';
import { checkProcessorAllowed } from '../../src/session/key-limits.js';
import type { KeyPolicy } from '../../src/auth/key-policy.js';
import { expect, fuzzTarget } from './fuzz-target.js';
import { mostly, mutatedText, weirdJson, weirdNumber, weirdString } from './mutators.js';

const registry = builtinProcessors();
const PROCESSORS = registry.names();
const POLICY: KeyPolicy = {
  id: 'fuzz',
  name: 'fuzz',
  tenant: 'fuzz',
  processors: ['null', 'stats', 'face', 'edges'],
  models: ['back'],
  maxSessions: undefined,
  maxFps: undefined,
  storeResults: 'all',
};

/** Params that are valid for some processors and not others, and odd ones. */
export const paramsArb = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constant({}),
    fc.record(
      {
        min_score: mostly(fc.double({ min: 0, max: 1, noNaN: true })),
        step: mostly(fc.integer({ min: 1, max: 16 })),
        threshold: mostly(fc.integer({ min: 1, max: 255 })),
        radius: mostly(fc.integer({ min: 2, max: 64 })),
        margin: mostly(fc.double({ min: 0, max: 1, noNaN: true })),
        model: mostly(fc.constantFrom('back', 'front', 'blazeface-back', 'nope')),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(weirdString(12), weirdJson(), { maxKeys: 3 }),
    weirdJson(),
  );

const id = (): fc.Arbitrary<unknown> =>
  fc.oneof(fc.constant(undefined), fc.string({ maxLength: 64 }), fc.integer(), weirdString(80), weirdNumber(), weirdJson());
const processorName = (): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PROCESSORS) }, weirdString(70), weirdJson());

/** A structured client message (JSON object), mostly well-formed. */
export const clientMessage = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc.record({ type: mostly(fc.constant('ping')), id: id() }, { requiredKeys: ['type'] }),
    fc.record({ type: mostly(fc.constant('set')), id: id(), processor: processorName(), params: paramsArb() }, { requiredKeys: ['type'] }),
    fc.record({ type: fc.oneof(fc.constantFrom('hello', 'result', 'pong', 'PING', ''), weirdString(40)), id: id() }, { requiredKeys: ['type'] }),
  );

const VALID_TEXT = ['{"type":"ping","id":1}', '{"type":"set","id":"a","processor":"stats","params":{"step":4}}', '{"type":"set","params":{"min_score":0.7}}'];

/** Text as it arrives on the channel: structured messages, mutated valid ones, any JSON, free text, oversized. */
export const controlText = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: clientMessage().map((m) => JSON.stringify(m)) },
    { weight: 3, arbitrary: mutatedText(VALID_TEXT) },
    { weight: 2, arbitrary: weirdJson().map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: weirdString(100) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: MAX_CLIENT_MESSAGE_BYTES - 20, max: MAX_CLIENT_MESSAGE_BYTES + 20 }).map((n) => `{"type":"ping","id":"${'x'.repeat(n)}"}`),
    },
  );

const state = (): fc.Arbitrary<ControlState> =>
  fc
    .constantFrom('null', 'stats', 'face', 'edges')
    .map((processor) => ({ processor, params: registry.resolve(processor, {}).params as Record<string, unknown> }));

export const fuzzControlMessages = fuzzTarget('control-messages', { server: false }, async ({ tally }) => {
  const control = new ControlChannel({
    resolve: (name, params) => registry.resolve(name, params),
    check: (processor, params) => checkProcessorAllowed(POLICY, processor, params),
    now: () => 1,
  });
  return {
    property: fc.property(controlText(), state(), fc.anything(), (text, st, anything) => {
      expect(typeof ClientMessage.safeParse(anything).success === 'boolean', 'ClientMessage.safeParse misbehaved');
      expect(typeof HelloMessage.safeParse(anything).success === 'boolean', 'HelloMessage.safeParse misbehaved');
      const out = control.handle(text, st);
      const answer = out.kind === 'reply' ? out.message : out.ack;
      expect(ServerMessage.safeParse(answer).success, 'the answer is not a valid ServerMessage', answer);
      if (answer.type === 'error') tally.reject();
      else tally.accept();

      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return;
      }
      const msg = ClientMessage.safeParse(json);
      if (text.length > MAX_CLIENT_MESSAGE_BYTES || !msg.success) {
        expect(answer.type === 'error', 'an invalid message was not answered with an error', answer);
        return;
      }
      const m = msg.data;
      if (m.type === 'ping') {
        expect(answer.type === 'pong' && answer.id === m.id && answer.server_ms === 1, 'a ping was not answered by its pong', answer);
        return;
      }
      const target = m.processor ?? st.processor;
      const merged = target === st.processor ? { ...st.params, ...m.params } : (m.params ?? {});
      let want: { params: unknown } | undefined;
      try {
        const r = registry.resolve(target, merged);
        checkProcessorAllowed(POLICY, r.processor, r.params);
        want = r;
      } catch {
        want = undefined;
      }
      if (want) {
        expect(out.kind === 'apply' && out.name === target, 'a valid set was not applied', answer);
        expect(answer.type === 'ack' && answer.id === m.id && answer.processor === target, 'the ack does not match the set', answer);
        expect(JSON.stringify(out.params) === JSON.stringify(want.params), 'the applied params are not the resolved ones', {
          got: out.params,
          want: want.params,
        });
      } else {
        expect(answer.type === 'error' && answer.id === m.id, 'a refused set was not answered by an error with its id', answer);
      }
    }),
  };
});
