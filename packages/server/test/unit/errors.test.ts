import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ERROR_STATUS, ErrorCode } from '@sightline/protocol';
import { ERROR_STATUSES, errorStatusText, type ErrorStatus } from '../../src/api/openapi/route-docs.js';
import { AnswerFailedError, InvalidOfferError } from '../../src/engine/media-engine.js';
import { SightlineError } from '../../src/errors.js';
import { InvalidParamsError, UnknownProcessorError } from '../../src/pipeline/processor-registry.js';
import { ForbiddenByKeyError, SessionLimitError } from '../../src/session/key-limits.js';
import { AtCapacityError, OverloadedError, PeerClosedError, RecordingUnavailableError, ShuttingDownError } from '../../src/session/session-manager.js';

describe('one error table: code → status, read by HTTP, the DataChannel and OpenAPI', () => {
  test('every code has exactly one status, and a SightlineError of it carries that status and the error body', () => {
    assert.deepEqual(Object.keys(ERROR_STATUS).sort(), [...ErrorCode.options].sort());
    for (const code of ErrorCode.options) {
      const e = new SightlineError(code, 'why');
      assert.equal(e.status, ERROR_STATUS[code]);
      assert.ok(e.status >= 400 && e.status < 600, code);
      assert.deepEqual(e.body(), { error: { code, message: 'why' } });
    }
  });

  test('the OpenAPI text of each status lists exactly the codes the table gives it (the document test checks it is used)', () => {
    assert.deepEqual([...ERROR_STATUSES].sort(), [...new Set(Object.values(ERROR_STATUS))].sort());
    for (const status of ERROR_STATUSES) {
      const listed = errorStatusText(status as ErrorStatus)
        .split(': ')[1]!
        .split(', ');
      assert.deepEqual(listed.sort(), ErrorCode.options.filter((c) => ERROR_STATUS[c] === status).sort(), `status ${status}`);
    }
  });

  test('domain errors are SightlineErrors with the right code (and Retry-After where a retry helps)', () => {
    const cases: Array<[SightlineError, string, number]> = [
      [new UnknownProcessorError('x', ['face']), 'unknown_processor', 400],
      [new InvalidParamsError('face', 'min_score: too big'), 'invalid_params', 400],
      [new InvalidOfferError('no fingerprint'), 'invalid_sdp', 400],
      [new RecordingUnavailableError('not configured'), 'recording_unavailable', 400],
      [new ForbiddenByKeyError('no'), 'forbidden', 403],
      [new PeerClosedError('failed'), 'peer_closed', 409],
      [new SessionLimitError(2, 'k'), 'rate_limited', 429],
      [new AtCapacityError(16), 'at_capacity', 503],
      [new OverloadedError(1500, 1000), 'overloaded', 503],
      [new ShuttingDownError(), 'not_ready', 503],
      [new AnswerFailedError('timeout'), 'ice_gathering_failed', 503],
      [new RecordingUnavailableError('ffmpeg missing', true), 'recording_failed', 503],
    ];
    for (const [e, code, status] of cases) {
      assert.ok(e instanceof SightlineError, e.name);
      assert.deepEqual([e.code, e.status], [code, status], e.name);
    }
    for (const e of [new SessionLimitError(2, 'k'), new AtCapacityError(1), new OverloadedError(2, 1), new AnswerFailedError('x')])
      assert.ok(e.headers['retry-after'], e.name);
    assert.match(new InvalidOfferError('no fingerprint').message, /^invalid SDP offer: no fingerprint/);
  });
});
