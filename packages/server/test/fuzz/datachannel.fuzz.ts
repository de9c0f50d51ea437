/**
 * Target `datachannel` (in-process server, a real WebRTC client): messages on a live session's DataChannel, sent by the
 * Node publisher (libdatachannel) over a connected peer connection — through the engine's channel (engine/ndc/
 * ndc-channel.ts) into the session (ControlChannel for text, EncodedFrameInput for binary chunks).
 *
 * Inputs: sequences of control messages (`ping`/`set`: structured, mutated, oversized, any JSON, free text), JPEG/WebP
 * frames as valid chunks, chunks with mutated headers and payloads, random bytes (session-messages.ts).
 *
 * Invariants: every message the server sends is JSON and a valid `ServerMessage`, no error is `internal` or
 * `processing_failed`; a final `ping` is answered within 5 s; every whole, valid frame gets its `frame_ack`; no
 * message ends the session; the server stays healthy.
 */
import fc from 'fast-check';
import { expect, fuzzTarget } from './fuzz-target.js';
import { KEY, type FuzzServer } from './fuzz-server.js';
import { NodePeer } from '../helpers/node-peer.js';
import { checkServerMessages, framesToAcknowledge, sessionMessages, type Outgoing } from './session-messages.js';

const WAIT_MS = 5000;

/** A connected client: its peer, its session id, and every message it received since `received` was last emptied. */
interface Client {
  peer: NodePeer;
  id: string;
  received: Array<string | { binary: true }>;
}

async function connect(server: FuzzServer): Promise<Client> {
  const peer = new NodePeer({ video: false });
  try {
    const res = await server.inject({
      method: 'POST',
      url: '/webrtc/offer',
      headers: { 'content-type': 'application/json', 'api-key': KEY },
      payload: JSON.stringify({ sdp: await peer.offer(), type: 'offer', processor: 'stats' }),
    });
    if (res.statusCode !== 200) throw new Error(`could not open the DataChannel session: ${res.statusCode} ${res.body}`);
    const answer = res.json() as { sdp: string; session_id: string };
    await peer.accept(answer.sdp);
    await peer.channelOpen();
    const client: Client = { peer, id: answer.session_id, received: [] };
    peer.publisher.onMessage = (m) => void client.received.push(typeof m === 'string' ? m : { binary: true });
    return client;
  } catch (err) {
    peer.close();
    throw err;
  }
}

/** `messages` with each valid frame's id moved up by `offset` (in the chunk headers too). */
function withFreshIds(messages: readonly Outgoing[], offset: number): Outgoing[] {
  return messages.map((m) => {
    if (m.kind !== 'binary' || m.frame === undefined) return m;
    const bytes = new Uint8Array(m.bytes);
    new DataView(bytes.buffer).setUint32(4, m.frame + offset);
    return { kind: 'binary', bytes, frame: m.frame + offset };
  });
}

export const fuzzDataChannel = fuzzTarget('datachannel', { server: true }, async ({ tally, server }) => {
  const messages = await sessionMessages();
  let client: Client | undefined;
  let n = 0;
  const live = (c: Client): boolean => c.peer.channel.readyState === 'open' && server.server.sessions.get(c.id)?.closed === false;
  const until = async (done: () => boolean): Promise<boolean> => {
    const deadline = Date.now() + WAIT_MS;
    while (!done()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  };
  return {
    property: fc.asyncProperty(messages, async (input) => {
      if (!client || !live(client)) {
        client?.peer.close();
        client = await connect(server);
      }
      const c: Client = client;
      c.received.length = 0;
      const run = n++;
      const end = `fuzz-end-${run}`;
      // One session serves every input: each input's valid frames get ids of their own, so that no frame of an earlier
      // input (a partial one, a rejected one whose chunks may still come) shares them.
      const sent = withFreshIds(input, 1_000_000 + run * 1000);
      // Text that is not UTF-8 cannot be sent as a DataChannel string: it goes as bytes.
      for (const m of sent) c.peer.channel.send(m.kind === 'text' ? m.text : m.bytes);
      c.peer.channel.send(JSON.stringify({ type: 'ping', id: end }));
      const texts = (): Array<Record<string, unknown>> =>
        c.received.flatMap((m) => {
          try {
            return typeof m === 'string' ? [JSON.parse(m) as Record<string, unknown>] : [];
          } catch {
            return []; // reported by checkServerMessages
          }
        });
      const answered = await until(() => texts().some((m) => m.type === 'pong' && m.id === end));
      const expected = framesToAcknowledge(sent);
      const acked = (): Set<number> => new Set(texts().flatMap((m) => (m.type === 'frame_ack' ? [m.frame_id as number] : [])));
      const allAcked = answered && (await until(() => expected.every((id) => acked().has(id))));
      checkServerMessages(c.received, tally);
      expect(answered, 'the final ping was not answered within 5 s', sent.length);
      expect(allAcked, 'a valid frame was never acknowledged (frame_ack) within 5 s', { expected, acked: [...acked()] });
      expect(server.server.sessions.get(c.id)?.closed === false, 'the messages ended the session', server.server.sessions.get(c.id)?.summary());
      if (texts().some((m) => m.type === 'error')) tally.reject();
      else tally.accept();
    }),
    close: () => {
      client?.peer.close();
      if (client) server.server.sessions.end(client.id, 'deleted');
    },
  };
});
