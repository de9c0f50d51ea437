// Lint for the whole repository: typescript-eslint's recommended rules, Prettier for layout, and the layer order
// (protocol ← engine ← pipeline/models ← session ← api ← cli) enforced with import restrictions.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const SERVER = 'packages/server/src';
/** Each server folder, and the folders above it that it must not import. */
const ABOVE = {
  // Generic worker-thread plumbing (ManagedWorker), used by models/ and audio/: imports no other folder.
  workers: ['engine', 'models', 'pipeline', 'processors', 'audio', 'recording', 'auth', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  engine: ['models', 'pipeline', 'processors', 'audio', 'recording', 'auth', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  models: ['processors', 'audio', 'recording', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  pipeline: ['processors', 'audio', 'recording', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  processors: ['audio', 'recording', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  audio: ['processors', 'recording', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  recording: ['processors', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  auth: ['models', 'pipeline', 'processors', 'audio', 'recording', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  // The fleet's shared state (Redis) and request forwarding: below session/ (which asks it for slots), above nothing.
  cluster: ['models', 'pipeline', 'processors', 'audio', 'recording', 'auth', 'session', 'store', 'observability', 'api', 'cli', 'stream'],
  session: ['store', 'observability', 'api', 'cli', 'stream'],
  store: ['observability', 'api', 'cli', 'stream'],
  observability: ['store', 'api', 'cli', 'stream'],
  api: ['cli', 'stream'],
  stream: ['api', 'session', 'store', 'observability', 'cli'],
};
const TOP = ['server.js', 'config.js', 'index.js'];

const layerRules = Object.entries(ABOVE).map(([folder, above]) => ({
  files: [`${SERVER}/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [...above.map((f) => `../${f}/*`), ...TOP.map((f) => `../${f}`)],
            message: `${folder}/ sits below this: imports only point down the layers (docs/ARCHITECTURE.md).`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.artifacts/**', '.scratch/**', 'packages/server/test/e2e/seed-client/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      // A variable that closures read before it is assigned (a logger set up later) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // Tests and benches poke at untyped browser globals inside page.evaluate().
  { files: ['**/test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' } },
  ...layerRules,
  {
    files: ['packages/client/src/**/*.ts', 'packages/demo/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@sightline/protocol', message: 'browser code imports @sightline/protocol/wire (no zod in bundles)' },
            { name: 'zod', message: 'browser code ships no zod' },
          ],
        },
      ],
    },
  },
  {
    // The media plumbing sits under the server and the Node client: it imports neither, nor anything of theirs.
    files: ['packages/media/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@sightline/*', '../../*'], message: '@sightline/media depends on node-av and node-datachannel only' }] },
      ],
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts'],
    // The JSON Schema export is a build step beside the contract, not part of it.
    ignores: ['packages/protocol/src/export-json-schema.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@sightline/*', 'node:*'], message: 'the protocol depends on zod only' }] }] },
  },
);
