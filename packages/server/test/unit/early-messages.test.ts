import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerMessage } from '@sightline/protocol';
import { EarlyMessages } from '../../src/session/early-messages.js';

const msg = (n: number) => ({ msg: { type: 'pong', server_ms: n } as ServerMessage, text: String(n), isResult: true });

describe('EarlyMessages', () => {
  test('keeps messages in order until taken; empty afterwards', () => {
    const e = new EarlyMessages(3);
    assert.equal(e.hold(msg(1)), undefined);
    assert.equal(e.hold(msg(2)), undefined);
    assert.equal(e.size, 2);
    assert.deepEqual(
      e.takeAll().map((m) => m.text),
      ['1', '2'],
    );
    assert.equal(e.size, 0);
    assert.deepEqual(e.takeAll(), []);
  });

  test('beyond its bound the oldest is handed back (to be counted as undelivered)', () => {
    const e = new EarlyMessages(2);
    e.hold(msg(1));
    e.hold(msg(2));
    assert.equal(e.hold(msg(3))?.text, '1');
    assert.equal(e.hold(msg(4))?.text, '2');
    assert.deepEqual(
      e.takeAll().map((m) => m.text),
      ['3', '4'],
    );
  });

  test('a bound of 0 holds nothing', () => {
    const e = new EarlyMessages(0);
    assert.equal(e.hold(msg(1))?.text, '1');
    assert.equal(e.size, 0);
  });
});
