import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/paths.js';

/** Lints `code` as if it were the file at `path` (relative to the repository), with the repository's config. */
async function lint(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath: `${repoRoot}${path}` });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint: the layer order is enforced (protocol ← engine ← pipeline/models ← session ← api ← cli)', () => {
  test('an upward import is an error', async () => {
    assert.match(
      (await lint('packages/server/src/engine/x.ts', "import type { Session } from '../session/session.js';\nexport type S = Session;\n")).join('\n'),
      /no-restricted-imports/,
    );
    assert.match(
      (await lint('packages/server/src/models/x.ts', "import { buildApp } from '../api/app.js';\nexport const b = buildApp;\n")).join('\n'),
      /no-restricted-imports/,
    );
    assert.match(
      (
        await lint(
          'packages/server/src/session/x.ts',
          "import type { ServerMetrics } from '../observability/server-metrics.js';\nexport type M = ServerMetrics;\n",
        )
      ).join('\n'),
      /no-restricted-imports/,
    );
  });

  test('workers/ (ManagedWorker) sits below models/ and audio/: they may import it, it imports neither', async () => {
    assert.match(
      (await lint('packages/server/src/workers/x.ts', "import { BatchQueue } from '../models/batch-queue.js';\nexport const q = BatchQueue;\n")).join('\n'),
      /no-restricted-imports/,
    );
    for (const folder of ['models', 'audio']) {
      assert.deepEqual(
        await lint(`packages/server/src/${folder}/x.ts`, "import { ManagedWorker } from '../workers/managed-worker.js';\nexport const w = ManagedWorker;\n"),
        [],
      );
    }
  });

  test('a downward import is fine', async () => {
    assert.deepEqual(
      await lint('packages/server/src/session/x.ts', "import type { EnginePeer } from '../engine/media-engine.js';\nexport type P = EnginePeer;\n"),
      [],
    );
  });

  test('browser code may not import zod or the protocol main entry', async () => {
    assert.match(
      (await lint('packages/client/src/x.ts', "import { ServerMessage } from '@sightline/protocol';\nexport const s = ServerMessage;\n")).join('\n'),
      /protocol\/wire/,
    );
    assert.deepEqual(
      await lint('packages/client/src/x.ts', "import { EncodedFrameSender } from '@sightline/protocol/wire';\nexport const s = EncodedFrameSender;\n"),
      [],
    );
  });

  test('@sightline/media imports nothing of the server, the clients or the protocol', async () => {
    for (const code of ["import { createServer } from '../../server/src/server.js';\n", "import { NodeClient } from '@sightline/node';\n"]) {
      assert.match((await lint('packages/media/src/codecs/x.ts', `${code}export const x = 1;\n`)).join('\n'), /no-restricted-imports/, code);
    }
    assert.deepEqual(await lint('packages/media/src/codecs/x.ts', "import { Codec } from 'node-av/lib';\nexport const c = Codec;\n"), []);
  });
});
