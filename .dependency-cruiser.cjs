// The layer rules (docs/ARCHITECTURE.md): src/adapters → src/api → src/services → src/engine → src/base, imports
// only pointing down, no cycles. `npm test` runs this check; a forbidden import fails the suite.
const LAYERS = ['adapters', 'api', 'services', 'engine', 'base'];
const above = (layer) => LAYERS.slice(0, LAYERS.indexOf(layer));

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle between modules hides which one is the lower layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...LAYERS.filter((l) => above(l).length).map((layer) => ({
      name: `${layer}-imports-only-down`,
      comment: `src/${layer} may not import a layer above it (${above(layer).join(', ')}).`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: `^src/(${above(layer).join('|')})/` },
    })),
    {
      name: 'base-imports-nothing-of-the-project',
      comment: 'The base layer (error type, ids, clock, canonical JSON, references) stands on its own.',
      severity: 'error',
      from: { path: '^src/base/' },
      to: { path: '^src/(?!base/)' },
    },
    {
      name: 'only-adapters-know-http',
      comment: 'Below the adapters nothing knows the transport, not even its types: no express, no node:http(s).',
      severity: 'error',
      from: { path: '^src/(?!adapters/)' },
      to: { path: '^(express|node:https?|https?)$|node_modules/(express|@types/express)/' },
    },
    {
      name: 'storage-knows-no-policy-api-or-adapters',
      comment: 'Storage keeps rows; who may read them is decided above it (engine/access), not inside it.',
      severity: 'error',
      from: { path: '^src/engine/storage/' },
      to: { path: '^src/(engine/access|api|adapters)/' },
    },
    {
      name: 'engine-rooms-without-cycles',
      comment: 'Engine rooms (forms, validation, access, storage, search, pki) may not form a folder cycle.',
      severity: 'error',
      from: { path: '^src/engine/(forms|validation|storage)/' },
      to: { path: '^src/engine/(access|search|gateway-context)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
