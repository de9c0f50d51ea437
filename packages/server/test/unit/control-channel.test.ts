import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_CLIENT_MESSAGE_BYTES } from '@sightline/protocol';
import { ControlChannel, type ControlOutcome } from '../../src/session/control-channel.js';
import { ForbiddenByKeyError } from '../../src/session/key-limits.js';
import { builtinProcessors } from '../../src/processors/builtin-processors.js';

const registry = builtinProcessors();
const channel = (forbidden: string[] = []) =>
  new ControlChannel({
    resolve: (name, params) => registry.resolve(name, params),
    check: (p) => {
      if (forbidden.includes(p.name)) throw new ForbiddenByKeyError(`this key may not use "${p.name}"`);
    },
    now: () => 1234,
  });
const face = { processor: 'face', params: { model: 'back', min_score: 0.5 } };
const reply = (o: ControlOutcome) => {
  assert.equal(o.kind, 'reply');
  return o.kind === 'reply' ? (o.message as Record<string, unknown>) : {};
};

describe('ControlChannel (no peer, no timers)', () => {
  test('ping → pong with its id and the server clock', () => {
    assert.deepEqual(reply(channel().handle('{"type":"ping","id":7}', face)), { type: 'pong', id: 7, server_ms: 1234 });
  });

  test('set with the same processor merges params over the current ones and acks them all', () => {
    const out = channel().handle('{"type":"set","id":"a","params":{"min_score":0.8}}', face);
    assert.equal(out.kind, 'apply');
    if (out.kind !== 'apply') return;
    assert.equal(out.name, 'face');
    assert.deepEqual(out.params, { model: 'back', min_score: 0.8 });
    assert.deepEqual(out.ack, { type: 'ack', id: 'a', processor: 'face', params: { model: 'back', min_score: 0.8 } });
  });

  test('set with another processor starts from its defaults', () => {
    const out = channel().handle('{"type":"set","processor":"stats"}', face);
    assert.ok(out.kind === 'apply' && out.name === 'stats');
    assert.deepEqual(out.kind === 'apply' && out.params, { step: 2 });
  });

  test('mistakes become error messages with the request id; the state is untouched', () => {
    const c = channel(['edges']);
    assert.deepEqual(pick(reply(c.handle('{"type":"set","id":1,"processor":"nope"}', face))), { code: 'unknown_processor', id: 1 });
    assert.deepEqual(pick(reply(c.handle('{"type":"set","id":2,"params":{"min_score":7}}', face))), { code: 'invalid_params', id: 2 });
    assert.deepEqual(pick(reply(c.handle('{"type":"set","id":3,"processor":"edges"}', face))), { code: 'forbidden', id: 3 });
    assert.deepEqual(face, { processor: 'face', params: { model: 'back', min_score: 0.5 } });
  });

  test('not JSON, too long, unknown type, bad shape: invalid_message or unsupported_message', () => {
    const c = channel();
    assert.equal(reply(c.handle('{oops', face)).code, 'invalid_message');
    assert.equal(reply(c.handle(`"${'x'.repeat(MAX_CLIENT_MESSAGE_BYTES)}"`, face)).code, 'invalid_message');
    assert.equal(reply(c.handle('{"type":"dance"}', face)).code, 'unsupported_message');
    assert.equal(reply(c.handle('{"type":"set","params":[1]}', face)).code, 'invalid_message');
    assert.equal(reply(c.handle('null', face)).code, 'invalid_message');
  });
});

function pick(m: Record<string, unknown>): { code: unknown; id: unknown } {
  return { code: m.code, id: m.id };
}
