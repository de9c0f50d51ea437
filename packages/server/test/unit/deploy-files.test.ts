/**
 * Static checks of the deployment files (Dockerfile, .dockerignore, deploy/compose.yaml, deploy/turnserver.conf,
 * deploy/.env.example): no Docker engine is needed, so this runs everywhere the unit tests run.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { OPTIONS } from '../../src/config.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (p: string): string => readFileSync(join(root, p), 'utf8');

/**
 * Environment variables the deployment files may set without config.ts's OPTIONS table listing them: NODE_ENV is
 * Node's own; DATABASE_URL, SIGHTLINE_DB and SIGHTLINE_DRAIN_TIMEOUT_MS came with the persistence and drain work and
 * are allowed here so this test does not depend on the order those changes land in. Once they are in OPTIONS for
 * good, only NODE_ENV needs to stay.
 */
const NOT_IN_OPTIONS = new Set(['DATABASE_URL', 'SIGHTLINE_DB', 'SIGHTLINE_DRAIN_TIMEOUT_MS', 'NODE_ENV']);
const OPTION_ENVS = new Set(Object.values(OPTIONS).map((o) => o.env));
const knownEnv = (name: string): boolean => OPTION_ENVS.has(name) || NOT_IN_OPTIONS.has(name);

// ---------------------------------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  /** Index of the stage (FROM) it belongs to. */
  stage: number;
}

interface Stage {
  /** Image or earlier stage it starts from. */
  from: string;
  name: string | undefined;
}

/** Instructions with continuation lines joined and comments dropped; stages with their names. */
function parseDockerfile(text: string): { instructions: Instruction[]; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(pending)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!;
    pending = '';
    if (keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ from: f[1]!, name: f[2] });
    }
    instructions.push({ keyword, args, stage: stages.length - 1 });
  }
  return { instructions, stages };
}

/** Stage indexes from the given one back through the stages it is built FROM. */
function ancestry(stages: Stage[], index: number): number[] {
  const chain = [index];
  for (let s = stages[index]; s;) {
    const parent = stages.findIndex((x) => x.name === s!.from);
    if (parent < 0 || chain.includes(parent)) break;
    chain.push(parent);
    s = stages[parent];
  }
  return chain;
}

/** `KEY=value KEY2="v"` pairs of an ENV instruction (the legacy `ENV KEY value` form too). */
function envPairs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!args.includes('=')) {
    const [k, ...v] = args.split(/\s+/);
    out.set(k!, v.join(' '));
    return out;
  }
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) out.set(m[1]!, m[3] ?? m[2]!);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// .dockerignore, with Docker's rules: patterns are anchored at the context root (no implicit **/), `**` spans
// directories, a pattern that matches a directory excludes everything under it, `!` re-includes, the last match wins.

function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).trim().replace(/^\/+|\/+$/g, '');
      let rx = '';
      for (let i = 0; i < p.length;) {
        const [piece, len] = p.startsWith('**/', i)
          ? ['(?:.*/)?', 3]
          : p.startsWith('**', i)
            ? ['.*', 2]
            : p[i] === '*'
              ? ['[^/]*', 1]
              : p[i] === '?'
                ? ['[^/]', 1]
                : [p[i]!.replace(/[.+^${}()|[\]\\]/g, '\\$&'), 1];
        rx += piece;
        i += len;
      }
      return { negate, re: new RegExp(`^${rx}(?:/.*)?$`) };
    });
  return (path) => {
    const p = path.replace(/^\.\/+/, '').replace(/\/+$/, '');
    let ignored = false;
    for (const r of rules) if (r.re.test(p)) ignored = !r.negate;
    return ignored;
  };
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name === '.git') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const { instructions, stages } = parseDockerfile(text);
  const ignored = dockerignore(read('.dockerignore'));
  const all = (k: string): Instruction[] => instructions.filter((i) => i.keyword === k);
  const last = stages.length - 1;

  test('is multi-stage on Debian 12 slim (glibc, not Alpine)', () => {
    assert.ok(stages.length >= 2, `expected several FROM stages, got ${stages.length}`);
    const args = new Map(all('ARG').map((i) => i.args.split('=') as [string, string]));
    const image = (from: string): string => from.replace(/^\$\{(\w+)\}$/, (_, n: string) => args.get(n) ?? from);
    for (const s of stages.filter((x) => !stages.some((y) => y.name === x.from))) {
      assert.match(image(s.from), /^node:20[\w.-]*-bookworm-slim$/, `base image ${s.from}`);
    }
  });

  test('the runtime stage runs as a non-root user', () => {
    const users = instructions.filter((i) => i.keyword === 'USER' && i.stage === last);
    assert.ok(users.length > 0, 'no USER in the final stage');
    assert.doesNotMatch(users.at(-1)!.args, /^(root|0)(:|$)/);
  });

  test('ONNXRUNTIME_NODE_INSTALL=skip is set before every npm ci', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
    assert.ok(runs.length > 0, 'no npm ci');
    for (const run of runs) {
      const chain = ancestry(stages, run.stage);
      const before = instructions.slice(0, instructions.indexOf(run));
      const set = before.some((i) => i.keyword === 'ENV' && chain.includes(i.stage) && envPairs(i.args).get('ONNXRUNTIME_NODE_INSTALL') === 'skip');
      assert.ok(set, `RUN ${run.args} runs without ENV ONNXRUNTIME_NODE_INSTALL=skip in its stage or the stages it builds on`);
    }
  });

  test('the stage that compiles native modules has python3, make and g++', () => {
    const compile = instructions.find((i) => i.keyword === 'RUN' && /\bnpm ci\b(?!.*--omit=dev)/.test(i.args))!;
    const chain = ancestry(stages, compile.stage);
    const apt = instructions
      .filter((i) => i.keyword === 'RUN' && chain.includes(i.stage) && /apt-get install/.test(i.args))
      .map((i) => i.args)
      .join(' ');
    for (const p of ['python3', 'make', 'g++']) assert.ok(apt.split(/\s+/).includes(p), `${p} not installed for node-gyp`);
  });

  test('HEALTHCHECK asks /readyz with node (no curl in slim)', () => {
    const hc = all('HEALTHCHECK');
    assert.equal(hc.length, 1);
    assert.match(hc[0]!.args, /\bCMD\b/);
    assert.match(hc[0]!.args, /"node"|\bnode\b/);
    assert.match(hc[0]!.args, /\/readyz/);
    assert.doesNotMatch(hc[0]!.args, /\bcurl\b|\bwget\b/);
  });

  test('exposes 8080/tcp and the media UDP range it configures', () => {
    const exposed = all('EXPOSE').flatMap((i) => i.args.split(/\s+/));
    assert.ok(
      exposed.some((p) => /^8080(\/tcp)?$/.test(p)),
      `EXPOSE ${exposed.join(' ')}`,
    );
    const env = new Map(
      all('ENV')
        .filter((i) => i.stage === last)
        .flatMap((i) => [...envPairs(i.args)]),
    );
    const range = exposed.find((p) => /^\d+-\d+\/udp$/.test(p));
    assert.ok(range, 'no UDP range exposed');
    assert.equal(range, `${env.get('SIGHTLINE_RTC_PORT_MIN')}-${env.get('SIGHTLINE_RTC_PORT_MAX')}/udp`);
  });

  test('stops with SIGTERM and starts the server from the built CLI', () => {
    assert.equal(all('STOPSIGNAL').at(-1)?.args, 'SIGTERM');
    const entry = [...all('ENTRYPOINT'), ...all('CMD')]
      .filter((i) => i.stage === last)
      .map((i) => i.args)
      .join(' ');
    assert.match(entry, /packages\/server\/dist\/cli\/main\.js/);
    assert.match(entry, /"serve"/);
  });

  test('every SIGHTLINE_* variable it sets is a known option', () => {
    for (const i of all('ENV')) {
      for (const name of envPairs(i.args).keys()) {
        if (name.startsWith('SIGHTLINE_')) assert.ok(knownEnv(name), `${name} is not in config.ts OPTIONS`);
      }
    }
  });

  test('every COPY source from the context exists and is not excluded by .dockerignore', () => {
    const copies = all('COPY').filter((i) => !/--from=/.test(i.args));
    assert.ok(copies.length > 0);
    for (const c of copies) {
      const words = c.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      for (const src of words.slice(0, -1)) {
        assert.ok(existsSync(join(root, src)), `COPY ${src}: not in the repository`);
        assert.ok(!ignored(src), `COPY ${src}: excluded by .dockerignore`);
      }
    }
  });

  test('COPY --from sources are files of the repository or build outputs of a package', () => {
    const named = new Set(stages.map((s) => s.name));
    for (const c of all('COPY').filter((i) => /--from=/.test(i.args))) {
      const from = /--from=(\S+)/.exec(c.args)![1]!;
      assert.ok(named.has(from), `COPY --from=${from}: no such stage`);
      const src = c.args.split(/\s+/).filter((w) => !w.startsWith('--'))[0]!;
      const rel = src.replace(/^\/app\/?/, '');
      if (rel === '') continue; // the whole installed tree of a stage
      const dist = /^(packages\/[^/]+)\/dist$/.exec(rel);
      if (dist) assert.ok(existsSync(join(root, dist[1]!, 'package.json')), `${rel}: no such package`);
      else {
        assert.ok(existsSync(join(root, rel)), `COPY --from ${src}: not in the repository`);
        assert.ok(!ignored(rel), `COPY --from ${src}: excluded by .dockerignore`);
      }
    }
  });

  test('.dockerignore keeps what the build needs and drops node_modules, dist and tests', () => {
    const needed =
      /^(package(-lock)?\.json|\.npmrc|tsconfig(\.base)?\.json|LICENSE|packages\/[^/]+\/(package\.json|tsconfig\.json|src\/.*|index\.html|vite\.config\.ts|bin\/.*)|packages\/server\/models\/.*)$/;
    let checked = 0;
    for (const file of walk(root)) {
      const rel = relative(root, file).split('\\').join('/');
      if (!needed.test(rel) || /\.test\.ts$/.test(rel)) continue;
      assert.ok(!ignored(rel), `${rel} is needed by the build but excluded by .dockerignore`);
      checked++;
    }
    assert.ok(checked > 50, `only ${checked} build inputs found`);
    for (const p of [
      'node_modules',
      'packages/server/node_modules',
      'packages/server/dist',
      'packages/demo/dist',
      '.git',
      'deploy/.env',
      'packages/server/test/unit/x.test.ts',
    ]) {
      assert.ok(ignored(p), `${p} should be excluded from the build context`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// compose

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string | number | null>;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  stop_grace_period?: string;
  ports?: string[];
  volumes?: string[];
  network_mode?: string;
}

/** `${NAME}`, `${NAME:-default}`, `${NAME:?error}` → NAME for every substitution in a string. */
const variables = (s: string): string[] => [...s.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?-][^}]*)?\}/g)].map((m) => m[1]!);

const durationMs = (s: string): number => {
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return ms;
};

describe('deploy/compose.yaml', () => {
  const compose = parseYaml(read('deploy/compose.yaml')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const services = compose.services;
  const sightline = services['sightline']!;
  const env = (sightline.environment ?? {}) as Record<string, string>;

  test('parses, with the sightline, postgres and coturn services', () => {
    for (const s of ['sightline', 'postgres', 'coturn']) assert.ok(services[s], `no ${s} service`);
  });

  test('sightline builds the repository Dockerfile', () => {
    const context = resolve(root, 'deploy', sightline.build!.context);
    assert.equal(relative(root, context), '');
    assert.ok(existsSync(join(context, sightline.build!.dockerfile ?? 'Dockerfile')));
  });

  test("sightline's environment names exist in config.ts (or are being added)", () => {
    const names = Object.keys(env);
    assert.ok(names.length > 5);
    for (const name of names) assert.ok(knownEnv(name), `${name} is not in config.ts OPTIONS nor in the allow-list`);
  });

  test('sightline uses PostgreSQL, waits for it to be healthy, and persists /data', () => {
    assert.match(env['DATABASE_URL']!, /^postgres(ql)?:\/\/[^@]+@postgres:5432\//);
    assert.equal(sightline.depends_on?.['postgres']?.condition, 'service_healthy');
    const pgTest = services['postgres']!.healthcheck!.test;
    assert.match(Array.isArray(pgTest) ? pgTest.join(' ') : pgTest, /pg_isready/);
    assert.ok(sightline.volumes?.some((v) => /:\/data$/.test(v)));
    assert.ok(services['postgres']!.volumes?.some((v) => /:\/var\/lib\/postgresql\/data$/.test(v)));
    // The password reaches Postgres and the URL from one variable.
    assert.deepEqual(variables(env['DATABASE_URL']!), variables(String(services['postgres']!.environment!['POSTGRES_PASSWORD'])));
  });

  test('the media UDP range is published 1:1 and matches the server range and the announced IP is set', () => {
    const udp = sightline.ports!.find((p) => p.endsWith('/udp'))!;
    const [host, container] = udp.replace(/\/udp$/, '').split(/:(?=\$\{|\d)/);
    assert.equal(host, container);
    assert.equal(container, `${env['SIGHTLINE_RTC_PORT_MIN']}-${env['SIGHTLINE_RTC_PORT_MAX']}`);
    assert.ok(env['SIGHTLINE_ANNOUNCED_IP']);
  });

  test("coturn's static-auth-secret and SIGHTLINE_TURN_SECRET come from the same variable", () => {
    const secretArg = services['coturn']!.command!.find((a) => a.startsWith('--static-auth-secret='));
    assert.ok(secretArg, 'coturn has no --static-auth-secret');
    const coturnVar = variables(secretArg);
    assert.equal(coturnVar.length, 1);
    assert.deepEqual(variables(env['SIGHTLINE_TURN_SECRET']!), coturnVar);
    for (const url of env['SIGHTLINE_TURN_URLS']!.split(',')) assert.match(url.replace(/\$\{[^}]*\}/g, 'HOST'), /^turns?:[^:]+:3478\b/);
    assert.ok(services['coturn']!.volumes?.some((v) => v.startsWith('./turnserver.conf:') && v.endsWith(':ro')));
  });

  test('stop_grace_period outlasts drain and shutdown', () => {
    const grace = durationMs(sightline.stop_grace_period!);
    const drain = Number(env['SIGHTLINE_DRAIN_TIMEOUT_MS']);
    const shutdown = Number(env['SIGHTLINE_SHUTDOWN_TIMEOUT_MS'] ?? OPTIONS.shutdownTimeoutMs.default());
    assert.ok(drain > 0);
    assert.ok(grace > drain + shutdown, `stop_grace_period ${grace} ms <= drain ${drain} + shutdown ${shutdown} ms`);
  });

  test('every variable it substitutes is in .env.example', () => {
    const example = new Set(
      read('deploy/.env.example')
        .split('\n')
        .map((l) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(l)?.[1])
        .filter((x): x is string => !!x),
    );
    for (const name of new Set(variables(read('deploy/compose.yaml')))) assert.ok(example.has(name), `${name} missing from deploy/.env.example`);
  });
});

describe('deploy/turnserver.conf', () => {
  const conf = read('deploy/turnserver.conf')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const has = (k: string): string | undefined => conf.find((l) => l === k || l.startsWith(`${k}=`));

  test('TURN REST auth with the secret kept out of the file', () => {
    assert.ok(has('use-auth-secret'));
    assert.equal(has('static-auth-secret'), undefined, 'the secret belongs in deploy/.env, not in the file');
    assert.equal(has('lt-cred-mech'), undefined);
  });

  test('listens on 3478 with a relay range clear of Sightline’s media range, no CLI, fingerprints', () => {
    assert.equal(has('listening-port'), 'listening-port=3478');
    const min = Number(has('min-port')?.split('=')[1]);
    const max = Number(has('max-port')?.split('=')[1]);
    assert.ok(min > 0 && max >= min);
    const compose = parseYaml(read('deploy/compose.yaml')) as { services: Record<string, ComposeService> };
    const rtc = compose.services['sightline']!.environment!;
    const lo = Number(/(\d+)\}?$/.exec(String(rtc['SIGHTLINE_RTC_PORT_MIN']))![1]);
    const hi = Number(/(\d+)\}?$/.exec(String(rtc['SIGHTLINE_RTC_PORT_MAX']))![1]);
    assert.ok(max < lo || min > hi, `coturn ${min}-${max} overlaps Sightline ${lo}-${hi}`);
    assert.ok(has('no-cli'));
    assert.ok(has('fingerprint'));
  });
});

describe('docs/DEPLOY.md', () => {
  test('exists and links back to the files it explains', () => {
    const doc = read('docs/DEPLOY.md');
    for (const f of ['compose.yaml', 'turnserver.conf', '.env.example', '/readyz', 'ONNXRUNTIME_NODE_INSTALL'])
      assert.ok(doc.includes(f), `DEPLOY.md does not mention ${f}`);
    assert.ok(statSync(join(root, 'docs/DEPLOY.md')).size > 2000);
  });
});
