import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { NodeClient, SightlineError, WsClient, type NodeResult } from '../src/index.js';
import { startServerProcess, type ServerProcess } from '../../server/test/helpers/server-process.js';

const KEY = 'node-client-key';
const W = 320;
const H = 240;

/** A frame of uniform luma (chroma grey): the `stats` processor reports its mean luma. */
function i420(luma: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(W * H * 1.5).fill(128);
  data.fill(luma, 0, W * H);
  return { width: W, height: H, data };
}

const waitFor = async (what: string, ok: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('@sightline/node against a real server (libdatachannel + FFmpeg, and the WebSocket bridge)', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess(['--workers', '1'], { SIGHTLINE_API_KEYS: KEY });
  });
  after(async () => {
    await server?.stop();
  });

  test('NodeClient (video track): results for the frames it sent, RTT measured, close() DELETEs and returns the final counters', async () => {
    const client = await NodeClient.connect({ url: server.url, apiKey: KEY, processor: 'stats', userId: 'node-test' });
    assert.match(client.sessionId, /\S+/);
    const results: NodeResult[] = [];
    client.onResult = (r) => results.push(r);
    for (let i = 0; i < 30; i++) {
      client.send(i420(200));
      await new Promise((r) => setTimeout(r, 33));
    }
    await waitFor('results', () => results.filter((r) => r.rttMs !== undefined).length >= 10);
    const measured = results.filter((r) => r.rttMs !== undefined);
    assert.ok(measured.every((r) => r.rttMs! > 0 && r.rttMs! < 5000));
    assert.ok(
      measured.some((r) => Math.abs((r.message.data as { mean_luma: number }).mean_luma - 200) < 10),
      'results are of our frames (luma 200)',
    );
    const closing = client.close();
    assert.equal(client.close(), closing, 'close() is idempotent');
    const summary = await closing;
    assert.ok(summary, 'the server answered the DELETE');
    assert.equal(summary.session_id, client.sessionId);
    assert.ok(summary.frames_received >= 10 && summary.results_sent >= 10, JSON.stringify(summary));
  });

  test('NodeClient (JPEG on a DataChannel): ids are the frames own, every frame answered', async () => {
    const client = await NodeClient.connect({ url: server.url, apiKey: KEY, processor: 'stats', transport: 'datachannel' });
    const results: NodeResult[] = [];
    client.onResult = (r) => results.push(r);
    const jpeg = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 250, g: 250, b: 250 } } })
      .jpeg()
      .toBuffer();
    for (let i = 0; i < 5; i++) {
      client.sendEncoded(new Uint8Array(jpeg));
      await waitFor(`result ${i}`, () => results.length > i);
    }
    assert.deepEqual(
      results.map((r) => r.rttMs !== undefined),
      [true, true, true, true, true],
    );
    assert.equal(client.senderStats?.sent, 5);
    assert.ok((await client.close())?.results_sent === 5);
  });

  test('WsClient: a session over the WebSocket bridge; refusals are the server error codes', async () => {
    const client = await WsClient.connect({ url: server.url, apiKey: KEY, processor: 'stats' });
    const results: NodeResult[] = [];
    client.onResult = (r) => results.push(r);
    const jpeg = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 10, g: 10, b: 10 } } })
      .jpeg()
      .toBuffer();
    client.sendEncoded(new Uint8Array(jpeg));
    await waitFor('a result', () => results.length === 1);
    assert.ok((results[0]!.message.data as { mean_luma: number }).mean_luma < 40);
    const summary = await client.close();
    assert.equal(summary?.session_id, client.sessionId);

    await assert.rejects(WsClient.connect({ url: server.url, apiKey: 'wrong', processor: 'stats' }), (e: unknown) => {
      assert.ok(e instanceof SightlineError);
      assert.equal(e.code, 'invalid_api_key');
      return true;
    });
    await assert.rejects(WsClient.connect({ url: server.url, apiKey: KEY, userId: 'u'.repeat(300) }), (e: unknown) => {
      assert.ok(e instanceof SightlineError);
      assert.equal(e.code, 'invalid_body');
      assert.equal(e.status, 400);
      return true;
    });
    await assert.rejects(NodeClient.connect({ url: server.url, apiKey: KEY, processor: 'no-such-processor' }), (e: unknown) => {
      assert.ok(e instanceof SightlineError);
      assert.equal(e.code, 'unknown_processor');
      assert.equal(e.status, 400);
      return true;
    });
  });
});
