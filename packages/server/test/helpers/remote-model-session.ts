import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { iou, readPngAsI420 } from './images.js';
import { type NodePeer, openNodeSession } from './node-peer.js';
import { ASTRONAUT_FACE, astronautPng } from './paths.js';

/**
 * A media server in-process with `--model faces=<url>@blazeface` (a model on a KServe v2 server), one Node session on
 * the `detect` processor fed the astronaut picture at 15 fps until it has 10 results (or 10 s): how many results came
 * and how many box the face. What the remote-inference tests (HTTP and gRPC) ask of a media node.
 */
export async function faceResultsThroughRemoteModel(url: string): Promise<{ results: number; onFace: number }> {
  const media = await createServer(
    loadConfig(['--workers', '1', '--log-level', 'silent', '--model', `faces=${url}@blazeface`], {
      SIGHTLINE_API_KEYS: 'k',
    }),
  );
  const peers: NodePeer[] = [];
  try {
    const { peer } = await openNodeSession(media.app, 'k', peers, { processor: 'detect', params: { model: 'faces', min_score: 0.5 } });
    peer.startSending(readPngAsI420(astronautPng), 15);
    const deadline = Date.now() + 10_000;
    const results = () => peer.messages.filter((m) => m.type === 'result');
    while (results().length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    peer.stopSending();
    const rs = results();
    const onFace = rs.filter((m) =>
      (m.boxes as Array<{ box: number[] }>).some((b) => {
        const [x, y, w, h] = b.box as [number, number, number, number];
        return iou({ x, y, w, h }, ASTRONAUT_FACE) >= 0.5;
      }),
    );
    return { results: rs.length, onFace: onFace.length };
  } finally {
    for (const p of peers) p.close();
    await media.close();
  }
}
