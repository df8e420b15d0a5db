// The lint keeps the architecture, not a style: folders are the pipeline's stages and each imports
// only from the stages before it. Formatting is left to the editor.
//
//   capture ──► decode ──► track ──► events ──► server ──► web (browser, not linted here)
//   ingest (engine, reader thread, batch format) and cli compose them; sockets is an I/O edge
//   joined to track's endpoints.
//
// decode and track are pure: no Node I/O, no timers, no clock (time comes in as an argument).
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const STAGES = ['capture', 'decode', 'track', 'events', 'sockets', 'server', 'ingest', 'demo', 'cli'];

/** What each folder may import from the others; anything not listed is refused. */
const MAY_IMPORT = {
  // capture hands raw frames on, tagged with decode's link-type numbers
  capture: ['decode'],
  decode: [],
  track: ['decode'],
  events: ['decode', 'track'],
  sockets: ['decode', 'track', 'events'],
  // the server reads the engine through an interface of its own (server/deps.ts EngineLike)
  server: ['capture', 'decode', 'track', 'events', 'sockets'],
  ingest: ['capture', 'decode', 'track'],
  demo: [],
  cli: STAGES.filter((s) => s !== 'cli'),
};

/** Node modules that reach outside the process, or its clock. */
const NODE_IO = [
  'fs', 'fs/promises', 'net', 'dgram', 'dns', 'http', 'https', 'http2', 'tls', 'child_process',
  'cluster', 'worker_threads', 'os', 'readline', 'process', 'timers', 'timers/promises', 'perf_hooks',
  'inspector', 'v8', 'vm',
];
const PURE_MESSAGE = 'decode and track are pure: I/O belongs to capture, sockets or ingest; time is passed in';

/** An inline `import('…')` type would pass the stage rule unseen: type imports go at the top. */
const INLINE_TYPE_IMPORT = { selector: 'TSImportType', message: 'import the type at the top of the file, where the stage rule sees it' };

/**
 * A value re-exported is a getter on the CommonJS exports object, and one getter makes V8 keep the
 * whole object as a dictionary: every read of the module's names from elsewhere becomes a call
 * (bench/dict-exports.mjs lists such modules). Import a name from the module that declares it.
 */
const NO_VALUE_REEXPORT = [
  { selector: "ExportNamedDeclaration[source][exportKind='value']", message: 'import values from the module that declares them; a value re-export slows every read of this module' },
  { selector: "ExportAllDeclaration[exportKind='value']", message: 'import values from the module that declares them; a value re-export slows every read of this module' },
];

const pureRules = {
  'no-restricted-imports': [
    'error',
    {
      paths: NODE_IO.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: PURE_MESSAGE })),
      patterns: [{ group: ['cap', 'pcap-parser', 'express', 'ws', 'prom-client'], message: PURE_MESSAGE }],
    },
  ],
  'no-restricted-globals': [
    'error',
    ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate',
      'queueMicrotask', 'performance', 'process', 'require', 'fetch'].map((name) => ({ name, message: PURE_MESSAGE })),
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: PURE_MESSAGE },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: PURE_MESSAGE },
    INLINE_TYPE_IMPORT,
    ...NO_VALUE_REEXPORT,
  ],
};

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'web/**', 'test/**', 'bench/**', 'scripts/**', 'bin/**', '.bench-data/**'] },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // a cycle can only close inside src: not following packages halves the lint's time
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'no-restricted-syntax': ['error', INLINE_TYPE_IMPORT, ...NO_VALUE_REEXPORT],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...Object.entries(MAY_IMPORT).map(([stage, allowed]) => ({
              target: `./src/${stage}`,
              from: './src',
              except: [`./${stage}`, ...allowed.map((s) => `./${s}`)],
              message: `${stage}/ imports only from ${allowed.length ? allowed.join(', ') : 'itself'}: dependencies run one way through the stages`,
            })),
            // nothing inside a stage reaches back up to the entry point
            { target: './src/*/**', from: './src/cli.ts', message: 'src/cli.ts is the entry point; nothing imports it' },
          ],
        },
      ],
    },
  },
  { files: ['src/decode/**/*.ts', 'src/track/**/*.ts'], rules: pureRules },
  // The tracker is read part by part: each file one job, each method one step of it.
  {
    files: ['src/track/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  // live.ts's names are read once, when a capture opens, never per packet
  { files: ['src/capture/live.ts'], rules: { 'no-restricted-syntax': ['error', INLINE_TYPE_IMPORT] } },
);
