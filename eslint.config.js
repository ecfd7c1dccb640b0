// ESLint flat config: typescript-eslint strict + type-checked rules, Prettier for formatting,
// the one-way module dependency rule of the architecture
// (protocol → rtp → simulcast → forwarding → media → conference → appservice → http → main), and the purity
// of protocol, rtp, simulcast, forwarding and appservice/membership (docs/architecture.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const layers = ['protocol', 'rtp', 'simulcast', 'forwarding', 'media', 'conference', 'appservice', 'http'];
/** A folder may import only the folders before it in `layers` (plus util, config, observability). */
function forbiddenFor(layer) {
  const idx = layers.indexOf(layer);
  return layers.slice(idx + 1).map((l) => `**/${l}/**`);
}
const pure = ['protocol', 'rtp', 'simulcast', 'forwarding'];
const clientAlone =
  'client/ is an independent second implementation of docs/protocol.md: it imports nothing of the project.';
/** What test code (test/, bench/, harness/) may do that product code may not. */
const testRelaxations = {
  '@typescript-eslint/no-non-null-assertion': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
  // tap's t.test() returns a promise that tap itself tracks.
  '@typescript-eslint/no-floating-promises': 'off',
  'no-console': 'off',
};

// Pure code takes time as an argument or an injected Clock (src/util/clock.ts) and reports through return
// values, never through logs or metrics: no timer or clock globals, no observability imports.
const timeGlobals = [
  'setTimeout',
  'setInterval',
  'clearTimeout',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'queueMicrotask',
  'Date',
  'performance',
];
// Node's `Buffer` and `performance` globals are accessors on globalThis: in optimized code every use is a
// generic global lookup (a LoadGlobalIC call), where an imported binding is a constant (bench/README.md "A DTLS
// transport in dictionary mode"). Product code imports them.
const importedGlobals = [
  {
    name: 'Buffer',
    message: "import { Buffer } from 'node:buffer' (the global is a generic lookup per use)",
  },
  {
    name: 'performance',
    message: "import { performance } from 'node:perf_hooks' (the global is a generic lookup per use)",
  },
];
const noTimeGlobals = {
  'no-restricted-globals': [
    'error',
    ...timeGlobals.map((name) => ({
      name,
      message: 'pure code takes `now` as an argument or an injected Clock (src/util/clock.ts)',
    })),
    ...importedGlobals.filter((g) => !timeGlobals.includes(g.name)),
  ],
  'no-restricted-properties': [
    'error',
    ...['globalThis', 'global', 'window', 'self'].flatMap((object) =>
      timeGlobals.map((property) => ({
        object,
        property,
        message: 'pure code takes `now` as an argument or an injected Clock (src/util/clock.ts)',
      })),
    ),
  ],
};
const impureModules = [
  '**/observability/**',
  'pino',
  'pino/*',
  'prom-client',
  'prom-client/*',
  'node:timers',
  'node:timers/*',
  'timers',
  'timers/*',
  'node:perf_hooks',
  'perf_hooks',
];
/** What no pure folder may import: I/O, frameworks and the observability stack. */
const pureForbidden = [
  'werift',
  'werift/*',
  'fastify',
  'fastify/*',
  'matrix-appservice-bridge',
  'node:dgram',
  'node:net',
  ...impureModules,
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tap/**', 'coverage/**', 'packages/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      curly: ['error', 'all'],
      'no-console': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify handlers and bus handlers are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', ...importedGlobals] },
  },
  ...layers.map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...forbiddenFor(layer), '**/main.js', ...(pure.includes(layer) ? pureForbidden : [])],
        },
      ],
      ...(pure.includes(layer) ? noTimeGlobals : {}),
    },
  })),
  {
    // The membership store is pure too (a replica of it must answer synchronously on a worker thread).
    files: ['src/appservice/membership/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...forbiddenFor('appservice'), '**/main.js', ...pureForbidden],
        },
      ],
      ...noTimeGlobals,
    },
  },
  {
    files: ['src/{util,config}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...layers.map((l) => `**/${l}/**`), '**/observability/**', 'werift', 'fastify'] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: testRelaxations,
  },
  // client/ and harness/ (issue 13): the protocol client is product code (strict, browser-safe, an independent
  // second implementation of docs/protocol.md); harness/ is test code shared by test/ and bench/.
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/src/**', '**/harness/**', '**/test/**', '**/bench/**'], message: clientAlone },
            { group: ['node:*', 'werift', 'werift/*'], message: 'client/ runs in a browser too.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['Buffer', 'process', 'require', '__dirname', '__filename', 'global'].map((name) => ({
          name,
          message: 'client/ runs in a browser too.',
        })),
      ],
    },
  },
  // web/: the browser pages (own tsconfigs), served by src/http. The status page reads the /status document and
  // imports nothing of the project; the call page is a client of the protocol, so it may import client/ (the
  // independent implementation), never src/. Neither imports Node.
  {
    files: ['web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/**', '**/harness/**', '**/test/**', '**/bench/**'],
              message: 'web/ pages run in a browser; they import nothing of the server or the tests.',
            },
            { group: ['node:*'], message: 'web/ runs in a browser.' },
          ],
        },
      ],
    },
  },
  {
    files: ['web/status/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/**', '**/client/**', '**/harness/**', '**/test/**', '**/bench/**'],
              message: 'the status page reads the JSON the server sends; it imports nothing of the project.',
            },
            { group: ['node:*'], message: 'web/ runs in a browser.' },
          ],
        },
      ],
    },
  },
  {
    files: ['harness/**/*.ts'],
    rules: {
      ...testRelaxations,
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/test/**', '**/bench/**'], message: 'harness/ serves test/ and bench/.' }],
        },
      ],
    },
  },
  {
    files: ['bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**'], message: 'bench/ takes shared helpers from harness/.' }] },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
