import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { encodeFrameChunks, ServerMessage } from '@sightline/protocol';
import sharp from 'sharp';
import WebSocket from 'ws';
import { parseInferServerArgs } from '../../src/cli/infer-server-command.js';
import { parseStreamArgs } from '../../src/cli/stream-command.js';
import { readKeysFile } from '../../src/auth/keys-file.js';
import { loadConfig } from '../../src/config.js';
import { launchChromium } from '../helpers/chromium.js';
import { ensurePanClip, onClipFace } from '../helpers/clip.js';
import { astronautPng, artifactsDir, repoRoot } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { readmeBlocks, seedClientWithReadmeEdits, shellWords, type ReadmeBlock } from '../helpers/readme-blocks.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const KEY = 'readme-key';
const blocks = readmeBlocks();
const of = (lang: string): ReadmeBlock[] => blocks.filter((b) => b.lang === lang);
const at = (b: ReadmeBlock): string => `README.md:${b.line}`;

/** Where the README's TypeScript blocks are written: inside the repository, so packages resolve as in a user's app. */
const tsDir = `${artifactsDir('readme')}`;
const tsFile = (b: ReadmeBlock): string => join(tsDir, `block-${b.line}.ts`);

describe("the README's code blocks work as written", { timeout: 180_000 }, () => {
  before(() => {
    rmSync(tsDir, { recursive: true, force: true });
    mkdirSync(tsDir, { recursive: true });
    for (const b of of('ts')) writeFileSync(tsFile(b), b.code);
  });

  test('every block is of a kind this test checks (sh, ts, html, diff, yaml, json)', () => {
    const unchecked = blocks.filter((b) => !['sh', 'ts', 'html', 'diff', 'yaml', 'json'].includes(b.lang));
    assert.deepEqual(unchecked.map(at), [], 'a new kind of block needs a check here');
    assert.ok(of('ts').length >= 2 && of('html').length >= 1 && of('diff').length >= 1 && of('sh').length >= 4);
  });

  test("the TypeScript blocks type-check, strict, as in a user's project", async () => {
    writeFileSync(
      join(tsDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          noEmit: true,
          skipLibCheck: true,
        },
        files: of('ts').map((b) => `block-${b.line}.ts`),
      }),
    );
    const r = await promisify(execFile)(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-p', tsDir]).catch((e: { stdout: string }) => e);
    assert.equal(r.stdout.trim(), '', `tsc found errors in the README's TypeScript:\n${r.stdout}`);
  });

  test('the processor example runs, lists its processor and answers frames with its data', async () => {
    const example = of('ts').find((b) => b.code.includes('defineProcessor'));
    assert.ok(example, 'the README has a processor example');
    const port = await freePort();
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', tsFile(example), '--port', String(port), '--host', '127.0.0.1', '--workers', '1', '--log-level', 'warn'],
      {
        cwd: repoRoot,
        env: { ...process.env, SIGHTLINE_API_KEYS: KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 60_000;
      while (
        (await fetch(`${base}/readyz`)
          .then((r) => r.status)
          .catch(() => 0)) !== 200
      ) {
        assert.ok(Date.now() < deadline && proc.exitCode === null, `the example did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const listed = (await (await fetch(`${base}/v1/processors`, { headers: { 'api-key': KEY } })).json()) as { processors: Array<{ name: string }> };
      assert.ok(
        listed.processors.some((p) => p.name === 'brightness'),
        JSON.stringify(listed.processors.map((p) => p.name)),
      );
      // A dark frame and a bright one over the WebSocket bridge, to the README's processor.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?processor=brightness`, { headers: { 'api-key': KEY } });
      const msgs: Array<Record<string, any>> = [];
      ws.on('message', (d) => msgs.push(JSON.parse(String(d))));
      const waitFor = async (pred: (m: Record<string, any>) => boolean) => {
        const t0 = Date.now();
        for (;;) {
          const m = msgs.find(pred);
          if (m) return m;
          assert.ok(Date.now() - t0 < 10_000, `no such message; got ${JSON.stringify(msgs)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitFor((m) => m.type === 'ready');
      const dark = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#080808' } })
        .jpeg()
        .toBuffer();
      const bright = await sharp(astronautPng).resize(320).jpeg().toBuffer();
      for (const c of encodeFrameChunks(new Uint8Array(dark), 1, Date.now())) ws.send(c);
      const r1 = await waitFor((m) => m.type === 'result' && m.frame_id === 1);
      for (const c of encodeFrameChunks(new Uint8Array(bright), 2, Date.now())) ws.send(c);
      const r2 = await waitFor((m) => m.type === 'result' && m.frame_id === 2);
      ws.close();
      assert.equal(r1.processor, 'brightness');
      assert.equal(r1.data.dark, true, JSON.stringify(r1.data));
      assert.equal(r2.data.dark, false, JSON.stringify(r2.data));
    } finally {
      proc.kill('SIGINT');
      if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
    }
  });

  test("the diff blocks apply to the seed's client (seed-client.test.ts runs the result)", () => {
    const edited = readFileSync(seedClientWithReadmeEdits(), 'utf8');
    assert.match(edited, /^USER_ID = /m, 'USER_ID is defined');
    assert.doesNotMatch(edited, /skinturn-helfie|api-dev\.helfie\.ai/, 'no fictional hosts left');
    assert.doesNotMatch(edited, /^\s*threading\.Thread\(target=display_loop/m, 'no display window');
  });

  test('every shell command names a real script, file, package or option', () => {
    const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { scripts: Record<string, string> };
    const checked: string[] = [];
    for (const b of of('sh')) {
      for (const line of b.code.split('\n')) {
        const words = shellWords(line);
        if (words.length === 0) continue;
        const commands: string[][] = [[]];
        for (const w of words) {
          if (w === '&&') commands.push([]);
          else commands.at(-1)!.push(w);
        }
        for (const cmd of commands) {
          const env: Record<string, string> = {};
          while (cmd.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(cmd[0]!)) {
            const [k, ...v] = cmd.shift()!.split('=');
            env[k!] = v.join('=');
          }
          const [c0, c1, c2, ...rest] = cmd;
          const where = `${at(b)}: ${cmd.join(' ')}`;
          if (c0 === 'npm' && (c1 === 'install' || c1 === 'ci')) checked.push(where);
          else if (c0 === 'npm' && c1 === 'start') assert.ok(pkg.scripts.start, where);
          else if (c0 === 'npm' && c1 === 'run') assert.ok(pkg.scripts[c2!], `${where}: no such npm script`);
          else if (c0 === 'npm' && c1 === 'rebuild') assert.ok(existsSync(`${repoRoot}node_modules/${c2}/package.json`), `${where}: not a dependency`);
          else if (c0 === 'bash') assert.ok(existsSync(`${repoRoot}${c1}`), `${where}: no such file`);
          else if (c0 === 'npx' && c1 === 'sightline' && c2 === 'serve') assert.doesNotThrow(() => loadConfig(rest, env), where);
          else if (c0 === 'npx' && c1 === 'sightline' && c2 === 'stream') assert.notEqual(parseStreamArgs(rest, env), 'help', where);
          else if (c0 === 'npx' && c1 === 'sightline' && c2 === 'infer-server') assert.notEqual(parseInferServerArgs(rest), 'help', where);
          else assert.fail(`${where}: this test does not know how to check this command`);
          checked.push(where);
        }
      }
    }
    assert.ok(checked.length >= 10, `${checked.length} commands checked`);
  });

  test('the keys file example loads', () => {
    const [yaml] = of('yaml');
    assert.ok(yaml);
    const file = join(tsDir, 'keys.yaml');
    writeFileSync(file, yaml.code);
    const keys = readKeysFile(file);
    assert.equal(keys.length, 2);
  });

  test('the JSON examples are valid protocol messages', () => {
    for (const b of of('json')) {
      const parsed = ServerMessage.safeParse(JSON.parse(b.code));
      assert.ok(parsed.success, `${at(b)}: ${parsed.success ? '' : parsed.error.message}`);
    }
  });

  describe('the plain-JavaScript page, in Chromium', () => {
    let server: ServerProcess;
    let browser: Awaited<ReturnType<typeof launchChromium>>;

    before(async () => {
      server = await startServerProcess([], { SIGHTLINE_API_KEYS: KEY });
      browser = await launchChromium(ensurePanClip());
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    test('runs as written (but for SERVER and KEY), gets results and draws the face box', async () => {
      const [page0] = of('html');
      assert.ok(page0);
      const html = page0.code.replace("'http://localhost:8080'", `'${server.url}'`).replace("'your-api-key'", `'${KEY}'`);
      assert.ok(html.includes(server.url) && html.includes(KEY), 'the block sets SERVER and KEY where the README says');
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route(`${server.url}/readme-example.html`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
      await page.goto(`${server.url}/readme-example.html`);
      // The box drawn: lime pixels on the canvas, whose bounding box is the face box (in the received frame's pixels).
      const drawn = await page.waitForFunction(
        () => {
          const c = document.getElementById('c') as HTMLCanvasElement;
          if (!c.width) return false;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let [x0, y0, x1, y1, n] = [Infinity, Infinity, -1, -1, 0];
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3]! > 200 && d[i + 1]! > 200 && d[i]! < 80 && d[i + 2]! < 80) {
              const x = (i / 4) % c.width;
              const y = Math.floor(i / 4 / c.width);
              [x0, y0, x1, y1, n] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y), n + 1];
            }
          }
          return n > 40 ? { width: c.width, box: [x0, y0, x1 - x0, y1 - y0] } : false;
        },
        undefined,
        { timeout: 20_000, polling: 50 },
      );
      const { width, box } = (await drawn.jsonValue()) as { width: number; box: [number, number, number, number] };
      assert.deepEqual(errors, []);
      assert.ok(onClipFace(box, width), `the drawn box ${JSON.stringify(box)} (frame ${width} px wide) is on the face`);
      await page.screenshot({ path: `${artifactsDir('screenshots')}readme-plain-js.png` });
      await page.close();
    });
  });
});
