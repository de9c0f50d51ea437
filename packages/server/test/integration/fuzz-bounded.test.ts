import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FuzzServer } from '../fuzz/fuzz-server.js';
import { TARGETS } from '../fuzz/targets.js';

/** Inputs per target here; `npm run fuzz` runs thousands. Fixed seeds: a failure here replays the same way. */
const RUNS = 200;
const SEED = 20_251_126;

/**
 * The bounded fuzz pass (test/fuzz/, `npm run fuzz` for the long one): every target — the pure parsers (SDP, trickle
 * fragments, control messages, frame chunks, keys files) and the surface of one in-process server (offer bodies,
 * mutated SDP offers, WHIP/WHEP, trickle PATCHes, concurrent requests on one session, the WebSocket bridge, a real
 * DataChannel, query strings) — with a small number of inputs from a fixed seed. It asserts what every input must get:
 * no 5xx (but documented refusals) and no crash (no exception the process would die of), every error body
 * `{error: {code, message}}`, valid inputs round-trip, no session or native peer connection left behind, and the
 * server still answering /healthz afterwards.
 */
describe('fuzz (bounded pass)', () => {
  let server: FuzzServer;
  before(async () => {
    server = await FuzzServer.start();
  });
  after(async () => {
    await server.close();
  });

  TARGETS.forEach((target, i) => {
    test(`${target.targetName}: ${RUNS} inputs, no 5xx, no crash, error bodies in shape`, async () => {
      const report = await target({ runs: RUNS, seed: SEED + i, server });
      assert.deepEqual(report.failures, [], `${target.targetName} (seed ${report.seed}):\n${report.failures.join('\n\n')}`);
      assert.equal(report.runs, RUNS, `${target.targetName} ran ${report.runs} of ${RUNS} inputs`);
      assert.ok(report.accepted > 0 && report.rejected > 0, `${target.targetName}: valid inputs were accepted and bad ones refused`);
    });
  });

  test('the server still answers /healthz and holds no session the fuzzer opened', async () => {
    assert.equal(await server.healthy(), true);
    assert.equal(await server.settle(), 0);
  });
});
