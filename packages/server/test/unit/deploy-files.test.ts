/**
 * Static checks of the deployment files (Dockerfile, .dockerignore, deploy/compose.yaml, deploy/turnserver.conf,
 * deploy/.env.example, the Kubernetes base deploy/k8s with its Triton component, deploy/haproxy.cfg, docs/SCALING.md):
 * no Docker engine nor cluster is needed, so this runs everywhere the unit tests run. `haproxy -c` checks the HAProxy
 * file (the test command installs haproxy); `kubectl kustomize` builds the base where kubectl is installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseInferServerArgs } from '../../src/cli/infer-server-command.js';
import { FORWARDED_BY } from '../../src/cluster/session-forwarding.js';
import { loadConfig, OPTIONS } from '../../src/config.js';
import { parseModelArg } from '../../src/models/model-catalog.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (p: string): string => readFileSync(join(root, p), 'utf8');

/** Environment variables the deployment files may set that are not server options: NODE_ENV is Node's own. */
const NOT_IN_OPTIONS = new Set(['NODE_ENV']);
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

// ---------------------------------------------------------------------------------------------------------------------
// deploy/k8s: the kustomize base (media fleet, inference tier, Redis, PostgreSQL, coturn, Ingress) and the Triton
// component in deploy/k8s/triton.

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  protocol?: string;
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Workload extends Manifest {
  spec: {
    replicas?: number;
    serviceName?: string;
    volumeClaimTemplates?: unknown[];
    strategy?: { type: string; rollingUpdate?: { maxSurge?: number | string } };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface ServiceManifest extends Manifest {
  spec: { selector: Record<string, string>; clusterIP?: string; ports: { name?: string; port: number; targetPort?: number | string }[] };
}
interface Kustomization extends Manifest {
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { path: string }[];
  configMapGenerator?: { name: string; files?: string[] }[];
}

const k8sDir = join(root, 'deploy/k8s');
const rel = (f: string): string => relative(root, f).split('\\').join('/');
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
/** What the downward API gives a pod, for resolving its environment as the kubelet would. */
const SAMPLE_FIELDS: Record<string, string> = {
  'metadata.name': 'sightline-media-6d5f8c7b9-x2k4q',
  'status.podIP': '10.244.1.7',
  'status.hostIP': '10.0.0.21',
};
const refs = (s: string): string[] => [...s.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]!);
const containersOf = (w: Workload): Container[] => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers];
const envOf = (c: Container, name: string): EnvVar | undefined => c.env?.find((e) => e.name === name);
/** `500m` → 0.5, `4` → 4. */
const cpu = (v: string | number | undefined): number => (typeof v === 'string' && v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v));

/** Every document of every YAML file under deploy/k8s, with the parse errors kept for the first test to report. */
function loadK8s(): { docs: { file: string; doc: Manifest }[]; errors: string[] } {
  const docs: { file: string; doc: Manifest }[] = [];
  const errors: string[] = [];
  for (const f of [...walk(k8sDir)].filter((p) => /\.ya?ml$/.test(p)).sort()) {
    for (const d of parseAllDocuments(readFileSync(f, 'utf8'))) {
      for (const e of [...d.errors, ...d.warnings]) errors.push(`${rel(f)}: ${e.message}`);
      const v = d.toJS() as Manifest | null;
      if (v) docs.push({ file: rel(f), doc: v });
    }
  }
  return { docs, errors };
}

describe('deploy/k8s', () => {
  const { docs, errors } = loadK8s();
  const kustomizations = docs.filter((d) => d.doc.kind === 'Kustomization' || d.doc.kind === 'Component') as { file: string; doc: Kustomization }[];
  const secretExample = 'deploy/k8s/secret.example.yaml';
  /** Files each kustomization names, by the role it gives them. */
  const named = { resources: new Set<string>(), patches: new Set<string>() };
  for (const k of kustomizations) {
    const dir = dirname(join(root, k.file));
    for (const r of k.doc.resources ?? []) named.resources.add(rel(resolve(dir, r)));
    for (const p of k.doc.patches ?? []) named.patches.add(rel(resolve(dir, p.path)));
  }
  /** What gets applied: the documents of files that a kustomization lists as resources. */
  const manifests = docs.filter((d) => named.resources.has(d.file)).map((d) => d.doc);
  const find = <T extends Manifest>(kind: string, name: string): T => {
    const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
    assert.ok(m, `no ${kind} ${name} in deploy/k8s`);
    return m as T;
  };
  const secrets = new Map(
    docs.filter((d) => d.file === secretExample && d.doc.kind === 'Secret').map((d) => [d.doc.metadata.name, new Map(Object.entries(d.doc.stringData ?? {}))]),
  );
  const media = find<Workload>('Deployment', 'sightline-media');
  const mediaC = media.spec.template.spec.containers.find((c) => c.name === 'sightline')!;
  const port = (c: Container, name: string): ContainerPort => {
    const p = c.ports?.find((x) => x.name === name);
    assert.ok(p, `container ${c.name} has no port named ${name}`);
    return p;
  };
  /** A container's environment as the kubelet makes it: downward API, Secret example values, $(VAR) expanded. */
  const resolveEnv = (c: Container): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      let v: string | undefined;
      if (e.valueFrom?.fieldRef) v = SAMPLE_FIELDS[e.valueFrom.fieldRef.fieldPath];
      else if (e.valueFrom?.secretKeyRef) v = secrets.get(e.valueFrom.secretKeyRef.name)?.get(e.valueFrom.secretKeyRef.key);
      else v = (e.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, n: string) => env[n] ?? `$(${n})`);
      assert.ok(v !== undefined, `${c.name}: ${e.name} cannot be resolved`);
      env[e.name] = v;
    }
    return env;
  };
  /** The media container's configuration: the image's ENV, then the pod's, through config.ts as the server reads it. */
  const mediaConfig = () => {
    const { instructions, stages } = parseDockerfile(read('Dockerfile'));
    const imageEnv = Object.fromEntries(instructions.filter((i) => i.keyword === 'ENV' && i.stage === stages.length - 1).flatMap((i) => [...envPairs(i.args)]));
    const args = mediaC.args ?? ['serve'];
    assert.equal(args[0], 'serve', 'the media nodes run `sightline serve`');
    return loadConfig(args.slice(1), { ...imageEnv, ...resolveEnv(mediaC) });
  };

  test('every YAML file parses, each document a Kubernetes or kustomize object', () => {
    assert.deepEqual(errors, []);
    assert.ok(docs.length > 10, `only ${docs.length} documents`);
    for (const { file, doc } of docs) {
      assert.ok(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string', `${file}: a document without apiVersion/kind`);
      assert.ok(doc.metadata?.name || doc.kind === 'Kustomization' || doc.kind === 'Component', `${file}: ${doc.kind} without a name`);
    }
  });

  test('kustomizations: what they name exists, every manifest is used, the Secret example is not applied', () => {
    assert.ok(
      kustomizations.some((k) => k.file === 'deploy/k8s/kustomization.yaml'),
      'deploy/k8s is not a kustomize base',
    );
    for (const k of kustomizations) {
      const dir = dirname(join(root, k.file));
      for (const r of [...(k.doc.resources ?? []), ...(k.doc.components ?? [])]) {
        const p = resolve(dir, r);
        assert.ok(existsSync(p), `${k.file}: ${r} does not exist`);
        if (statSync(p).isDirectory()) assert.ok(existsSync(join(p, 'kustomization.yaml')), `${k.file}: ${r} has no kustomization.yaml`);
      }
      for (const p of k.doc.patches ?? []) assert.ok(existsSync(resolve(dir, p.path)), `${k.file}: patch ${p.path} does not exist`);
      for (const g of k.doc.configMapGenerator ?? []) {
        for (const f of g.files ?? []) assert.ok(existsSync(resolve(dir, f.replace(/^[^=]*=/, ''))), `${k.file}: ${f} does not exist`);
      }
    }
    for (const { file } of docs) {
      if (basename(file) === 'kustomization.yaml' || file === secretExample) continue;
      assert.ok(named.resources.has(file) || named.patches.has(file), `${file} is in no kustomization`);
    }
    assert.ok(!named.resources.has(secretExample), 'secret.example.yaml holds placeholders: it must not be applied with the base');
    const base = kustomizations.find((k) => k.file === 'deploy/k8s/kustomization.yaml')!.doc;
    assert.equal(base.namespace, 'sightline');
    assert.ok(manifests.some((m) => m.kind === 'Namespace' && m.metadata.name === base.namespace));
    for (const m of docs.filter((d) => d.file.startsWith('deploy/k8s/triton/') && named.resources.has(d.file))) {
      // A component gets no namespace from the base: its own objects name it.
      assert.equal(m.doc.metadata.namespace, base.namespace, `${m.file}: ${m.doc.kind} ${m.doc.metadata.name} has no namespace`);
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  test('kubectl kustomize builds the base, and the base with the Triton component', { skip: kubectl ? false : 'kubectl is not installed' }, () => {
    const build = (dir: string): Manifest[] => {
      const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      assert.equal(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
      return parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest);
    };
    const base = build(k8sDir);
    for (const m of base) if (m.kind !== 'Namespace') assert.equal(m.metadata.namespace, 'sightline', `${m.kind} ${m.metadata.name}`);
    assert.ok(base.some((m) => m.kind === 'Deployment' && m.metadata.name === 'sightline-infer'));
    // The component is used from an overlay outside the base (kustomize refuses an overlay inside its base).
    const overlay = mkdtempSync(join(tmpdir(), 'sightline-k8s-'));
    try {
      const path = (p: string): string => relative(overlay, p).split('\\').join('/');
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${path(k8sDir)}]\ncomponents: [${path(join(k8sDir, 'triton'))}]\n`,
      );
      const withTriton = build(overlay);
      for (const m of withTriton) if (m.kind !== 'Namespace') assert.equal(m.metadata.namespace, 'sightline', `${m.kind} ${m.metadata.name}`);
      assert.ok(!withTriton.some((m) => m.metadata.name === 'sightline-infer'), 'the Triton component leaves sightline-infer in');
      const triton = withTriton.find((m) => m.kind === 'Deployment' && m.metadata.name === 'triton') as Workload | undefined;
      assert.ok(triton, 'no triton Deployment');
      const generated = withTriton.filter((m) => m.kind === 'ConfigMap').map((m) => m.metadata.name);
      for (const v of triton.spec.template.spec.volumes ?? [])
        if (v.configMap) assert.ok(generated.includes(v.configMap.name), `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
      const m = withTriton.find((x) => x.kind === 'Deployment' && x.metadata.name === 'sightline-media') as Workload;
      const models =
        envOf(
          m.spec.template.spec.containers.find((c) => c.name === 'sightline')!,
          'SIGHTLINE_MODELS',
        )?.value ?? '';
      assert.match(models, /kserve\+(http|grpc):\/\/triton:800[01]\//);
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  test('every SIGHTLINE_* variable is a known option; every $(VAR) is defined before it is used', () => {
    let checked = 0;
    for (const { file, doc } of docs) {
      if (!WORKLOADS.has(doc.kind) || !(doc as Workload).spec?.template?.spec) continue;
      for (const c of containersOf(doc as Workload)) {
        const defined = new Set<string>();
        for (const e of c.env ?? []) {
          if (e.name.startsWith('SIGHTLINE_')) assert.ok(knownEnv(e.name), `${file}: ${e.name} is not in config.ts OPTIONS`);
          // The kubelet expands $(VAR) only for variables defined earlier in the list; others stay as written.
          for (const r of refs(e.value ?? '')) assert.ok(defined.has(r), `${file}: ${e.name} uses $(${r}) before it is defined`);
          defined.add(e.name);
          checked++;
        }
        for (const a of [...(c.command ?? []), ...(c.args ?? [])])
          for (const r of refs(a)) assert.ok(defined.has(r), `${file}: ${c.name} args use $(${r}), not in its env`);
      }
    }
    assert.ok(checked > 20, `only ${checked} variables checked`);
  });

  test('Secrets named by the manifests are in secret.example.yaml, which holds placeholders only', () => {
    const used: [string, string | undefined, string][] = [];
    for (const { file, doc } of docs) {
      if (!WORKLOADS.has(doc.kind) || !(doc as Workload).spec?.template?.spec) continue;
      const pod = (doc as Workload).spec.template.spec;
      for (const c of containersOf(doc as Workload)) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) used.push([e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key, file]);
      }
      for (const v of pod.volumes ?? []) if (v.secret) used.push([v.secret.secretName, undefined, file]);
    }
    assert.ok(used.length > 5);
    for (const [name, key, file] of used) {
      assert.ok(secrets.has(name), `${file}: Secret ${name} is not in secret.example.yaml`);
      if (key) assert.ok(secrets.get(name)!.has(key), `${file}: key ${key} of Secret ${name} is not in secret.example.yaml`);
    }
    for (const [name, values] of secrets) {
      for (const [k, v] of values) assert.match(v, /CHANGE-ME/, `secret.example.yaml: ${name}.${k} must be an obvious placeholder`);
    }
  });

  test('Services select the pods of a workload and target ports those pods declare', () => {
    const services = manifests.filter((m) => m.kind === 'Service') as ServiceManifest[];
    const workloads = manifests.filter((m) => WORKLOADS.has(m.kind)) as Workload[];
    assert.ok(services.length >= 5);
    for (const s of services) {
      const w = workloads.filter((x) => Object.entries(s.spec.selector).every(([k, v]) => x.spec.template.metadata.labels[k] === v));
      assert.equal(w.length, 1, `Service ${s.metadata.name} selects ${w.length} workloads`);
      const ports = w[0]!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of s.spec.ports) {
        const target = p.targetPort ?? p.port;
        assert.ok(
          ports.some((cp) => cp.name === target || cp.containerPort === target),
          `Service ${s.metadata.name}: no container port ${target}`,
        );
      }
    }
    for (const w of workloads.filter((x) => x.kind === 'StatefulSet')) {
      assert.ok(
        services.some((s) => s.metadata.name === w.spec.serviceName && s.spec.clusterIP === 'None'),
        `${w.metadata.name}: no headless Service`,
      );
    }
  });

  test('media: readiness on /readyz, liveness on /healthz, and a grace period that outlasts preStop + drain + shutdown', () => {
    assert.equal(media.spec.replicas, 3);
    assert.equal(mediaC.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(mediaC.livenessProbe?.httpGet?.path, '/healthz');
    const http = port(mediaC, 'http').containerPort;
    for (const p of [mediaC.readinessProbe!, mediaC.livenessProbe!]) assert.ok(p.httpGet!.port === 'http' || p.httpGet!.port === http);
    const preStop = mediaC.lifecycle?.preStop;
    const sleepS = preStop?.sleep?.seconds ?? (preStop?.exec?.command[0] === 'sleep' ? Number(preStop.exec.command[1]) : NaN);
    assert.ok(sleepS > 0 && sleepS <= 15, `preStop should sleep a few seconds (got ${JSON.stringify(preStop)})`);
    const config = mediaConfig();
    const graceMs = media.spec.template.spec.terminationGracePeriodSeconds! * 1000;
    const needMs = sleepS * 1000 + config.drainTimeoutMs + config.shutdownTimeoutMs;
    assert.ok(
      graceMs > needMs,
      `terminationGracePeriodSeconds ${graceMs} ms <= preStop ${sleepS} s + drain ${config.drainTimeoutMs} + shutdown ${config.shutdownTimeoutMs} ms`,
    );
    // Node sees the host's cores, not the CPU limit: the worker count is set, within the limit.
    const limit = cpu(mediaC.resources?.limits?.['cpu']);
    assert.ok(Number(envOf(mediaC, 'SIGHTLINE_WORKERS')?.value) <= limit, 'SIGHTLINE_WORKERS above the CPU limit');
    assert.equal(cpu(mediaC.resources?.requests?.['cpu']), limit);
  });

  test('media: a fleet member named after its pod, reached on its pod IP, sharing Redis and PostgreSQL', () => {
    assert.equal(envOf(mediaC, 'SIGHTLINE_NODE_ID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(envOf(mediaC, 'POD_IP')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
    const http = port(mediaC, 'http').containerPort;
    assert.equal(envOf(mediaC, 'SIGHTLINE_ADVERTISE_URL')?.value, `http://$(POD_IP):${http}`);
    assert.ok(envOf(mediaC, 'DATABASE_URL')?.valueFrom?.secretKeyRef, 'DATABASE_URL comes from a Secret');
    const config = mediaConfig();
    assert.equal(config.port, http);
    assert.equal(config.nodeId, SAMPLE_FIELDS['metadata.name']);
    assert.equal(config.advertiseUrl, `http://${SAMPLE_FIELDS['status.podIP']}:${http}`);
    // Redis and PostgreSQL: the URLs name the Services of this base, on their ports.
    const redis = new URL(config.redisUrl!);
    const redisSvc = find<ServiceManifest>('Service', redis.hostname);
    assert.ok(redisSvc.spec.ports.some((p) => p.port === Number(redis.port)));
    assert.equal(decodeURIComponent(redis.password), secrets.get('sightline-secrets')!.get('REDIS_PASSWORD'));
    const pg = new URL(config.databaseUrl!);
    const pgSvc = find<ServiceManifest>('Service', pg.hostname);
    assert.ok(pgSvc.spec.ports.some((p) => p.port === Number(pg.port || 5432)));
    const postgres = find<Workload>('StatefulSet', 'sightline-postgres');
    assert.ok((postgres.spec.volumeClaimTemplates ?? []).length > 0, 'PostgreSQL keeps its data on a PersistentVolumeClaim');
    const pgEnv = resolveEnv(postgres.spec.template.spec.containers[0]!);
    assert.equal(decodeURIComponent(pg.password), pgEnv['POSTGRES_PASSWORD'], "DATABASE_URL's password is not PostgreSQL's");
    assert.equal(decodeURIComponent(pg.username), pgEnv['POSTGRES_USER']);
    assert.equal(pg.pathname, `/${pgEnv['POSTGRES_DB']}`);
  });

  test("media: one UDP port published on its node, announced with the node's address", () => {
    const udp = mediaC.ports!.find((p) => p.protocol === 'UDP');
    assert.ok(udp, 'no UDP port');
    assert.equal(udp.hostPort, udp.containerPort, 'the hostPort must equal the container port: candidates carry the port');
    const config = mediaConfig(); // also proves the image's port range is switched off (--rtc-port excludes it)
    assert.equal(config.rtcPort, udp.containerPort);
    assert.equal(envOf(mediaC, 'SIGHTLINE_ANNOUNCED_IP')?.valueFrom?.fieldRef?.fieldPath, 'status.hostIP');
    assert.equal(config.announcedIp, SAMPLE_FIELDS['status.hostIP']);
    // One pod per node: surging would wait for a port its old pod still holds.
    assert.equal(String(media.spec.strategy?.rollingUpdate?.maxSurge ?? '25%'), '0');
  });

  test('inference tier: sightline infer-server on the HTTP and gRPC ports its Service exposes and the media nodes use', () => {
    const infer = find<Workload>('Deployment', 'sightline-infer');
    const c = infer.spec.template.spec.containers[0]!;
    assert.equal(c.command, undefined, "the image's ENTRYPOINT runs the CLI; args name the command");
    assert.equal(c.args?.[0], 'infer-server');
    const args = parseInferServerArgs(c.args!.slice(1));
    assert.ok(args !== 'help');
    assert.equal(args.port, port(c, 'http').containerPort);
    assert.equal(args.grpcPort, port(c, 'grpc').containerPort);
    assert.equal(c.readinessProbe?.httpGet?.path, '/v2/health/ready');
    const svc = find<ServiceManifest>('Service', 'sightline-infer');
    const models = (envOf(mediaC, 'SIGHTLINE_MODELS')?.value ?? '').split(',').map((m) => parseModelArg(m));
    assert.ok(models.length > 0 && models.every((m) => m.remote), 'the media nodes run their models on the inference tier');
    assert.equal(envOf(mediaC, 'SIGHTLINE_PROCESSOR')?.value, 'detect');
    for (const m of models) {
      const target = new URL(m.remote!.url.includes('://') ? m.remote!.url : `grpc://${m.remote!.url}`);
      assert.equal(target.hostname, svc.metadata.name);
      const sp = svc.spec.ports.find((p) => p.port === Number(target.port));
      assert.ok(sp, `${m.file}: the Service has no port ${target.port}`);
      assert.equal(port(c, String(sp.targetPort)).containerPort, target.protocol === 'grpc:' ? args.grpcPort : args.port);
    }
  });

  test('coturn: host network, the media nodes’ TURN secret, relays clear of the media port', () => {
    const coturn = find<Workload>('Deployment', 'sightline-coturn');
    const pod = coturn.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    const c = pod.containers[0]!;
    const secretArg = c.args?.find((a) => a.startsWith('--static-auth-secret='));
    assert.ok(secretArg, 'coturn has no --static-auth-secret');
    const [secretVar] = refs(secretArg);
    assert.deepEqual(envOf(c, secretVar!)?.valueFrom?.secretKeyRef, envOf(mediaC, 'SIGHTLINE_TURN_SECRET')?.valueFrom?.secretKeyRef);
    const cm = manifests.find((m) => m.kind === 'ConfigMap' && pod.volumes?.some((v) => v.configMap?.name === m.metadata.name));
    assert.ok(cm?.data?.['turnserver.conf'], 'no turnserver.conf ConfigMap mounted');
    const conf = cm.data['turnserver.conf']
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const get = (k: string): string | undefined => conf.find((l) => l === k || l.startsWith(`${k}=`));
    assert.ok(get('use-auth-secret'));
    assert.equal(get('static-auth-secret'), undefined, 'the secret belongs in the Secret, not in the ConfigMap');
    assert.equal(get('listening-port'), 'listening-port=3478');
    const [min, max] = [Number(get('min-port')?.split('=')[1]), Number(get('max-port')?.split('=')[1])];
    const rtc = mediaConfig().rtcPort!;
    assert.ok(min > 0 && max >= min && (rtc < min || rtc > max), `coturn's relays ${min}-${max} overlap the media port ${rtc}`);
    for (const url of (envOf(mediaC, 'SIGHTLINE_TURN_URLS')?.value ?? '').split(',')) assert.match(url, /^turns?:[^:]+:3478\b/);
  });

  test('Triton component: config.pbtxt matches the ONNX file it is given, and the media nodes point at Triton', async () => {
    const dir = join(k8sDir, 'triton/model-repository');
    const models = readdirSync(dir);
    assert.ok(models.length > 0);
    const { InferenceSession } = await import('onnxruntime-node');
    const triton = find<Workload>('Deployment', 'triton');
    const copy = (triton.spec.template.spec.initContainers ?? []).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]).join(' ');
    for (const model of models) {
      const text = readFileSync(join(dir, model, 'config.pbtxt'), 'utf8').replace(/#.*$/gm, '');
      assert.equal(/^name:\s*"([^"]+)"/m.exec(text)?.[1], model, `${model}/config.pbtxt names another model`);
      assert.match(text, /^(platform:\s*"onnxruntime_onnx"|backend:\s*"onnxruntime")/m);
      // The ONNX file the init container copies to MODEL/1/model.onnx, out of the Sightline image's /app.
      const src = new RegExp(`/app/(\\S+\\.onnx)\\s+/models/${model}/1/model\\.onnx`).exec(copy)?.[1];
      assert.ok(src && existsSync(join(root, src)), `no copy of an ONNX file of the repository to ${model}/1/model.onnx`);
      assert.ok(src.startsWith('packages/server/models/'), `${src}: not among the models the image ships`);
      assert.match(read('Dockerfile'), /^COPY --from=\S+ \/app\/packages\/server\/models packages\/server\/models$/m);
      const session = await InferenceSession.create(join(root, src), { logSeverityLevel: 3 });
      try {
        const batch = Number(/^max_batch_size:\s*(\d+)/m.exec(text)?.[1] ?? 0);
        for (const [section, meta] of [
          ['input', session.inputMetadata],
          ['output', session.outputMetadata],
        ] as const) {
          const block = new RegExp(`^${section}\\s*\\[([\\s\\S]*?)^\\]`, 'm').exec(text)?.[1] ?? '';
          const tensors = [...block.matchAll(/\{([^{}]*)\}/g)].map((m) => ({
            name: /name:\s*"([^"]*)"/.exec(m[1]!)?.[1],
            type: /data_type:\s*(\w+)/.exec(m[1]!)?.[1],
            dims: (/dims:\s*\[([^\]]*)\]/.exec(m[1]!)?.[1] ?? '').split(',').map((d) => Number(d.trim())),
          }));
          assert.deepEqual(
            tensors.map((t) => t.name),
            meta.map((m) => m.name),
            `${model}: ${section} names`,
          );
          for (const [i, t] of tensors.entries()) {
            const m = meta[i]!;
            assert.ok(m.isTensor);
            assert.equal(t.type, m.type === 'float32' ? 'TYPE_FP32' : `?${m.type}`, `${model}: ${t.name} type`);
            // With max_batch_size > 0 Triton adds the batch dimension itself.
            assert.deepEqual(batch > 0 ? [-1, ...t.dims] : t.dims, batch > 0 ? [-1, ...m.shape.slice(1)] : m.shape, `${model}: ${t.name} dims`);
          }
        }
      } finally {
        await session.release();
      }
    }
    assert.equal(triton.spec.template.spec.containers[0]!.readinessProbe?.httpGet?.path, '/v2/health/ready');
    const patch = docs.find((d) => named.patches.has(d.file) && d.doc.metadata.name === 'sightline-media')?.doc as Workload | undefined;
    assert.ok(patch, 'the Triton component does not patch the media nodes');
    const svc = find<ServiceManifest>('Service', 'triton');
    for (const m of (envOf(patch.spec.template.spec.containers[0]!, 'SIGHTLINE_MODELS')?.value ?? '').split(',').map((x) => parseModelArg(x))) {
      assert.ok(m.remote, `${m.name} is not a remote model`);
      assert.ok(models.includes(m.remote.model), `${m.name}: Triton serves no model ${m.remote.model}`);
      assert.match(m.remote.url, new RegExp(`^(http://)?${svc.metadata.name}:(${svc.spec.ports.map((p) => p.port).join('|')})$`));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// deploy/haproxy.cfg

/** HAProxy time: a number with an optional unit, milliseconds by default. */
const haproxyMs = (s: string): number => {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(s);
  assert.ok(m, `not an HAProxy time: ${s}`);
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
};

/** The haproxy binary: on PATH, or where Debian puts it (/usr/sbin may not be on a user's PATH). */
function haproxyBin(): string | undefined {
  for (const bin of ['haproxy', '/usr/sbin/haproxy', '/usr/local/sbin/haproxy']) {
    if (spawnSync(bin, ['-v'], { encoding: 'utf8' }).status === 0) return bin;
  }
  return undefined;
}

describe('deploy/haproxy.cfg', () => {
  const path = join(root, 'deploy/haproxy.cfg');
  /** Sections (`defaults`, `frontend NAME`, `backend NAME`…) and their lines, comments dropped. */
  const sections = new Map<string, string[]>();
  let current = '';
  for (const raw of read('deploy/haproxy.cfg').split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (/^\S/.test(raw)) {
      current = line;
      sections.set(current, []);
    } else sections.get(current)?.push(line);
  }
  const section = (name: string): string[] => {
    const s = sections.get(name);
    assert.ok(s, `no "${name}" section`);
    return s;
  };
  const setting = (lines: string[], key: string): string | undefined =>
    lines
      .find((l) => l === key || l.startsWith(`${key} `))
      ?.slice(key.length)
      .trim();
  const frontend = [...sections.keys()].find((k) => k.startsWith('frontend ') && section(k).some((l) => /^bind\s+\S*:8080\b/.test(l)));
  const backendName = frontend && setting(section(frontend), 'default_backend');
  const backend = backendName ? section(`backend ${backendName}`) : [];

  const bin = haproxyBin();
  test('haproxy -c accepts it', { skip: bin || process.env.CI ? false : 'haproxy is not installed (the test command installs it; CI never skips)' }, () => {
    assert.ok(bin, 'haproxy is not installed');
    const r = spawnSync(bin, ['-c', '-f', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, `haproxy -c -f deploy/haproxy.cfg:\n${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /\[WARNING\]/, 'haproxy -c warns');
  });

  test('a frontend on :8080 sends to three media nodes in round robin, checked on /readyz every second, no stickiness', () => {
    assert.ok(frontend, 'no frontend binding :8080');
    assert.equal(setting(backend, 'balance'), 'roundrobin');
    assert.equal(setting(backend, 'option httpchk'), 'GET /readyz');
    assert.equal(setting(backend, 'http-check expect'), 'status 200');
    const defaults = setting(backend, 'default-server') ?? '';
    const servers = backend.filter((l) => l.startsWith('server '));
    assert.equal(servers.length, 3);
    for (const s of servers) {
      const opts = `${defaults} ${s}`;
      assert.match(opts, /(^|\s)check(\s|$)/, `${s}: not health-checked`);
      assert.doesNotMatch(s, /(^|\s)backup(\s|$)/);
      const num = (k: string, dflt: string): number => haproxyMs(new RegExp(`(?:^|\\s)${k}\\s+(\\S+)`).exec(opts)?.[1] ?? dflt);
      assert.ok(num('inter', '2s') <= 1000, `${s}: checks slower than every second`);
      assert.ok(num('fall', '3') <= 2 && num('rise', '2') <= 2, `${s}: fall/rise above 2`);
    }
    // Any node forwards a session's requests to its owner: the balancer keeps no affinity.
    for (const l of [...backend, ...(section('defaults') ?? [])]) assert.doesNotMatch(l, /^(cookie|stick|stick-table|balance (source|uri|hdr|url_param))\b/);
  });

  test('when no node is ready, requests still reach a live one', () => {
    const fallback = section(frontend!).find((l) => l.startsWith('use_backend ') && l.includes(`nbsrv(${backendName})`));
    assert.ok(fallback, `no use_backend for when ${backendName} has no server up`);
    const other = section(`backend ${fallback.split(/\s+/)[1]}`);
    assert.equal(setting(other, 'option httpchk'), 'GET /healthz');
    assert.deepEqual(
      other.filter((l) => l.startsWith('server ')).map((l) => l.split(/\s+/)[2]),
      backend.filter((l) => l.startsWith('server ')).map((l) => l.split(/\s+/)[2]),
    );
  });

  test('keeps SSE and WebSocket connections open, passes client addresses, strips the forwarding mark', () => {
    const defaults = section('defaults');
    const timeout = (k: string): number => haproxyMs(setting([...backend, ...defaults], `timeout ${k}`) ?? '0');
    assert.ok(timeout('tunnel') >= 10 * 60_000, 'timeout tunnel under 10 min cuts WebSocket sessions');
    // SSE streams send a keep-alive comment every 15 s (session-events-routes.ts); the server timeout must wait longer.
    assert.ok(timeout('server') > 15_000, 'timeout server does not outlast the SSE keep-alive');
    assert.ok(timeout('connect') > 0 && timeout('client') > 0);
    assert.ok([...defaults, ...section(frontend!), ...backend].some((l) => l.startsWith('option forwardfor')));
    assert.ok(
      section(frontend!).some((l) => l.toLowerCase() === `http-request del-header ${FORWARDED_BY}`),
      `clients must not be able to send ${FORWARDED_BY}`,
    );
  });
});

describe('docs/SCALING.md', () => {
  const doc = read('docs/SCALING.md');

  test('explains the fleet and its files, and is linked from the README and DEPLOY.md', () => {
    for (const s of [
      'deploy/haproxy.cfg',
      'deploy/k8s',
      'deploy/k8s/triton',
      '/readyz',
      '/v1/cluster',
      'SIGHTLINE_REDIS_URL',
      'SIGHTLINE_ADVERTISE_URL',
      'DATABASE_URL',
      FORWARDED_BY,
      'sightline:node:',
      'sightline:session:',
      'infer-server',
      'Triton',
      'TURN',
      'terminationGracePeriodSeconds',
    ]) {
      assert.ok(doc.includes(s), `SCALING.md does not mention ${s}`);
    }
    assert.match(read('README.md'), /\]\(docs\/SCALING\.md\)/);
    assert.match(read('docs/DEPLOY.md'), /\]\(SCALING\.md\)/);
  });

  test('no placeholder but the measurements the lead fills in; prose wrapped at 120 characters', () => {
    const todos = doc.split('\n').filter((l) => /TODO|TBD|FIXME|XXX/.test(l));
    assert.ok(todos.length <= 1, `placeholders:\n${todos.join('\n')}`);
    for (const t of todos) assert.match(t, /^Measured:.*TODO\(lead\): numbers/);
    let fence = false;
    for (const [i, line] of doc.split('\n').entries()) {
      if (line.startsWith('```')) fence = !fence;
      if (fence || line.startsWith('|')) continue;
      assert.ok(line.length <= 120, `SCALING.md:${i + 1} is ${line.length} characters`);
    }
  });
});
