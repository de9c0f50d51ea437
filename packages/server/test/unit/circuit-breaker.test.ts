import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CircuitBreaker } from '../../src/kserve/circuit-breaker.js';

describe('CircuitBreaker', () => {
  test('opens after N failures in a row, fails fast while open, lets one probe through, closes on its success', () => {
    let t = 0;
    const b = new CircuitBreaker({ failures: 3, openMs: 1000, now: () => t });
    assert.equal(b.state, 'closed');
    b.failed();
    b.failed();
    b.succeeded(); // in a row: a success in between starts the count again
    b.failed();
    b.failed();
    assert.equal(b.allow(), true);
    b.failed();
    assert.equal(b.state, 'open');
    assert.equal(b.allow(), false);
    assert.equal(b.retryInMs, 1000);
    t = 999;
    assert.equal(b.allow(), false);
    t = 1000;
    assert.equal(b.state, 'half-open');
    assert.equal(b.allow(), true, 'one probe');
    assert.equal(b.allow(), false, 'only one at a time');
    b.succeeded();
    assert.equal(b.state, 'closed');
    assert.equal(b.allow(), true);
  });

  test('a failed probe opens it again for twice as long, up to maxOpenMs; a success resets that', () => {
    let t = 0;
    const b = new CircuitBreaker({ failures: 1, openMs: 1000, maxOpenMs: 3000, now: () => t });
    b.failed();
    const openFor: number[] = [];
    for (let i = 0; i < 4; i++) {
      openFor.push(b.retryInMs);
      t += b.retryInMs;
      assert.equal(b.allow(), true);
      b.failed();
    }
    assert.deepEqual(openFor, [1000, 2000, 3000, 3000]);
    t += b.retryInMs;
    assert.equal(b.allow(), true);
    b.succeeded();
    b.failed();
    assert.equal(b.retryInMs, 1000);
  });
});
