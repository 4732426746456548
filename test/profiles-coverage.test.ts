// Every gateway-local extension URL and identifier system that the gateway emits has a definition in profiles/:
// a StructureDefinition (type Extension) per http://kaigo-gateway.jp/fhir/StructureDefinition/<name> and a
// NamingSystem per http://kaigo-gateway.jp/fhir/IdSystem/<name>. What is emitted is read from the golden Bundles
// (test/golden), the mappings (mappings/*.mapping.json, templates included), the Questionnaires (check-digit on
// items) and the URLs written in src/ (e.g. the care-plan CSV List). Each emitted extension must use the element,
// the value[x] type (or, for a complex extension, the sub-extension slices) its definition allows, and every
// profile file must pass the gateway's own R4 base validation (it loads them all at start-up).
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../src/base/project.js';
import { createFhirValidator, type FhirValidator } from '../src/engine/validation/fhir-validator.js';
import { readMapping } from '../src/engine/forms/registry.js';

const EXT_BASE = 'http://kaigo-gateway.jp/fhir/StructureDefinition/';
const ID_BASE = 'http://kaigo-gateway.jp/fhir/IdSystem/';
const PROFILES = join(PROJECT_ROOT, 'profiles');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const rel = (file: string): string => relative(PROJECT_ROOT, file);
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function filesUnder(dir: string, re: RegExp): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? filesUnder(p, re) : re.test(n) ? [p] : [];
    });
}

// ---------- what the gateway emits ----------

interface SubExtension {
  url: unknown;
  valueKeys: string[];
  value: unknown;
}

interface EmittedExtension {
  url: string;
  /** The element it sits on, e.g. `Coverage.costToBeneficiary` (no indexes; nested Questionnaire items collapsed). */
  context: string;
  valueKeys: string[];
  value: unknown;
  subs: SubExtension[];
  /** Where it was found: file and JSON location. */
  at: string;
  /** Golden output (concrete values) rather than a mapping template. */
  concrete: boolean;
}

interface EmittedIdentifier {
  system: string;
  context: string;
  at: string;
}

const isTemplateKey = (k: string): boolean => k.startsWith('$');
const valueKeysOf = (o: Obj): string[] => Object.keys(o).filter((k) => /^value[A-Z]/.test(k));

/** A mapping template list: `{"$each": …, "$template": T}` stands for T (repeated); everything else as is. */
function expandTemplates(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(expandTemplates);
  if (isObj(v) && ('$each' in v || '$eachItem' in v)) return expandTemplates(v.$template);
  return [v];
}

/** `Patient._birthDate` → `Patient.birthDate`; `QuestionnaireResponse.item.item.answer` → `QuestionnaireResponse.item.answer`. */
function elementPath(segs: readonly string[]): string {
  const path = segs.map((s) => s.replace(/^_/, '')).join('.');
  return /^(Questionnaire|QuestionnaireResponse)\./.test(path) ? path.replace(/(\.item)+/g, '.item') : path;
}

function collect(
  root: unknown,
  file: string,
  concrete: boolean,
  exts: EmittedExtension[],
  ids: EmittedIdentifier[],
  rootPath: string[] = [],
): void {
  const walk = (v: unknown, segs: string[], at: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, segs, `${at}[${i}]`));
      return;
    }
    if (!isObj(v)) return;
    if (!concrete && ('$each' in v || '$eachItem' in v)) {
      walk(v.$template, segs, `${at}.$template`);
      return;
    }
    if (typeof v.resourceType === 'string') segs = [v.resourceType];
    if (typeof v.system === 'string' && v.system.startsWith(ID_BASE))
      ids.push({ system: v.system, context: elementPath(segs), at: `${rel(file)} ${at}` });
    for (const [k, x] of Object.entries(v)) {
      if (isTemplateKey(k)) continue;
      if ((k === 'extension' || k === 'modifierExtension') && Array.isArray(x)) {
        (concrete ? x : expandTemplates(x)).forEach((e, i) => {
          if (isObj(e) && typeof e.url === 'string' && e.url.startsWith(EXT_BASE)) {
            const keys = valueKeysOf(e);
            const subs = (
              concrete ? (Array.isArray(e.extension) ? e.extension : []) : expandTemplates(e.extension ?? [])
            )
              .filter(isObj)
              .map((s) => ({
                url: s.url,
                valueKeys: valueKeysOf(s),
                value: valueKeysOf(s).map((sk) => s[sk])[0],
              }));
            exts.push({
              url: e.url,
              context: elementPath(segs),
              valueKeys: keys,
              value: keys.length === 1 ? e[keys[0]!] : undefined,
              subs,
              at: `${rel(file)} ${at}.${k}[${i}]`,
              concrete,
            });
          }
        });
      }
      walk(x, [...segs, k], `${at}.${k}`);
    }
  };
  walk(root, rootPath, '$');
}

const emittedExtensions: EmittedExtension[] = [];
const emittedIdentifiers: EmittedIdentifier[] = [];
const goldenFiles = filesUnder(join(PROJECT_ROOT, 'test', 'golden'), /\.json$/);
const mappingFiles = filesUnder(join(PROJECT_ROOT, 'mappings'), /\.mapping\.json$/);
const questionnaireFiles = filesUnder(PROFILES, /^Questionnaire-.*\.json$/);
for (const f of goldenFiles) collect(readJson(f), f, true, emittedExtensions, emittedIdentifiers);
for (const f of questionnaireFiles) collect(readJson(f), f, true, emittedExtensions, emittedIdentifiers);
for (const f of mappingFiles) {
  const m = readMapping(PROJECT_ROOT, relative(join(PROJECT_ROOT, 'mappings'), f)) as unknown as Obj;
  for (const [k, part] of Object.entries(m))
    collect(
      part,
      f,
      false,
      emittedExtensions,
      emittedIdentifiers,
      k === 'questionnaireResponse' ? ['QuestionnaireResponse'] : [],
    );
}

/** Gateway URLs written in the code (literals or `${CANONICAL_BASE}/…`), e.g. the care-plan CSV List's. */
const srcUrls = { ext: new Map<string, string>(), ids: new Map<string, string>() };
for (const f of filesUnder(join(PROJECT_ROOT, 'src'), /\.ts$/)) {
  const text = readFileSync(f, 'utf8');
  for (const m of text.matchAll(
    /(?:http:\/\/kaigo-gateway\.jp\/fhir|\$\{CANONICAL_BASE\})\/(StructureDefinition|IdSystem)\/([A-Za-z0-9._-]*[A-Za-z0-9])/g,
  )) {
    const map = m[1] === 'IdSystem' ? srcUrls.ids : srcUrls.ext;
    const url = (m[1] === 'IdSystem' ? ID_BASE : EXT_BASE) + m[2];
    if (!map.has(url)) map.set(url, rel(f));
  }
}

// ---------- what profiles/ defines ----------

interface Slice {
  url: unknown;
  min: number;
  max: number;
  valueTypes: string[];
  pattern?: unknown;
}

interface ExtensionDefinition {
  file: string;
  sd: Obj;
  contexts: string[];
  /** null: a complex extension (value[x] 0..0) */
  valueTypes: string[] | null;
  pattern?: unknown;
  slices: Map<string, Slice>;
}

type Element = Obj & {
  id?: string;
  path?: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: Array<{ code: string }>;
};

const typedEntry = (el: Obj, prefix: string): unknown =>
  Object.entries(el).find(([k]) => k.startsWith(prefix) && /^[A-Z]/.test(k.slice(prefix.length)))?.[1];
const maxOf = (el: Element | undefined, dflt: number): number =>
  el?.max === undefined ? dflt : el.max === '*' ? Infinity : Number(el.max);

const profileFiles = readdirSync(PROFILES)
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((n) => join(PROFILES, n));
const structureDefinitions = new Map<string, { file: string; sd: Obj }>();
const extensionDefs = new Map<string, ExtensionDefinition>();
const namingSystems = new Map<string, { file: string; ns: Obj }>();
for (const file of profileFiles) {
  const r = readJson(file) as Obj;
  if (r.resourceType === 'StructureDefinition' && typeof r.url === 'string') {
    structureDefinitions.set(r.url, { file, sd: r });
    if (r.type !== 'Extension') continue;
    const elements = ((r.differential as Obj | undefined)?.element ?? []) as Element[];
    const byId = new Map(elements.map((e) => [e.id ?? '', e]));
    const value = byId.get('Extension.value[x]');
    const complex = value?.max === '0';
    const slices = new Map<string, Slice>();
    for (const e of elements) {
      if (e.path !== 'Extension.extension' || e.sliceName === undefined) continue;
      const p = `Extension.extension:${e.sliceName}`;
      const v = byId.get(`${p}.value[x]`);
      slices.set(e.sliceName, {
        url: byId.get(`${p}.url`)?.fixedUri,
        min: e.min ?? 0,
        max: maxOf(e, Infinity),
        valueTypes: (v?.type ?? []).map((t) => `value${cap(t.code)}`),
        pattern: v ? typedEntry(v, 'pattern') : undefined,
      });
    }
    extensionDefs.set(r.url, {
      file,
      sd: r,
      contexts: ((r.context ?? []) as Array<{ type?: string; expression?: string }>).map((c) => c.expression ?? ''),
      valueTypes: complex ? null : (value?.type ?? []).map((t) => `value${cap(t.code)}`),
      pattern: value ? typedEntry(value, 'pattern') : undefined,
      slices,
    });
  } else if (r.resourceType === 'NamingSystem') {
    for (const u of (r.uniqueId ?? []) as Array<{ type?: string; value?: string }>)
      if (u.type === 'uri' && u.value) namingSystems.set(u.value, { file, ns: r });
  }
}

/** FHIR pattern semantics: every element of the pattern is present in the value (arrays: some element matches). */
function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern))
    return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  if (isObj(pattern)) return isObj(value) && Object.entries(pattern).every(([k, p]) => matchesPattern(value[k], p));
  return value === pattern;
}

const lastSegment = (url: string): string => url.slice(url.lastIndexOf('/') + 1);
const gatewayExtensionUrls = [...extensionDefs.keys()].filter((u) => u.startsWith(EXT_BASE));
const gatewayIdSystems = [...namingSystems.keys()].filter((u) => u.startsWith(ID_BASE));

describe('gateway profiles: extensions and identifier systems', () => {
  let validator: FhirValidator;
  before(async () => {
    validator = await createFhirValidator({ profilesDir: PROFILES });
  });

  it('finds what the gateway emits (the walk itself works)', () => {
    expect(goldenFiles.length).to.be.greaterThan(20);
    expect(mappingFiles.length).to.be.greaterThan(20);
    const fromGolden = new Set(emittedExtensions.filter((e) => e.at.startsWith('test/golden/')).map((e) => e.url));
    const fromMappings = new Set(emittedExtensions.filter((e) => e.at.startsWith('mappings/')).map((e) => e.url));
    for (const u of [
      'original-text',
      'ltci-service-type-limit',
      'ltci-benefit-restriction',
      'careplan-period-text',
      'ltci-units',
    ])
      expect(fromGolden, u).to.include(EXT_BASE + u);
    for (const u of ['ltci-service-type-limit', 'ltci-cost-limit-kind', 'ltci-care-plan-office'])
      expect(fromMappings, u).to.include(EXT_BASE + u);
    expect(emittedExtensions.map((e) => e.url)).to.include(`${EXT_BASE}check-digit`);
    expect(new Set(emittedIdentifiers.map((i) => i.system))).to.include.members([
      `${ID_BASE}ltci-insured-number`,
      `${ID_BASE}ltci-provider-number`,
      `${ID_BASE}document`,
    ]);
    expect([...srcUrls.ids.keys()]).to.include.members([
      `${ID_BASE}careplan-csv-file`,
      `${ID_BASE}careplan-csv-deletion-key`,
    ]);
    expect([...srcUrls.ext.keys()]).to.include(`${EXT_BASE}careplan-csv-sha256`);
    const complex = emittedExtensions.find((e) => e.concrete && e.url === `${EXT_BASE}ltci-service-type-limit`);
    expect(complex?.subs.map((s) => s.url)).to.deep.equal(['serviceType', 'limit']);
  });

  it('every gateway extension URL emitted (golden Bundles, mappings, Questionnaires, src) has a StructureDefinition', () => {
    const missing = new Map<string, string>();
    for (const e of emittedExtensions) if (!extensionDefs.has(e.url) && !missing.has(e.url)) missing.set(e.url, e.at);
    for (const [url, file] of srcUrls.ext)
      if (!structureDefinitions.has(url) && !missing.has(url)) missing.set(url, file);
    expect([...missing].map(([u, at]) => `${u} (first seen in ${at})`)).to.deep.equal([]);
  });

  it('every gateway identifier system emitted has a NamingSystem', () => {
    const missing = new Map<string, string>();
    for (const i of emittedIdentifiers)
      if (!namingSystems.has(i.system) && !missing.has(i.system)) missing.set(i.system, i.at);
    for (const [url, file] of srcUrls.ids) if (!namingSystems.has(url) && !missing.has(url)) missing.set(url, file);
    expect([...missing].map(([u, at]) => `${u} (first seen in ${at})`)).to.deep.equal([]);
  });

  it('every gateway extension StructureDefinition and NamingSystem is used somewhere (no stale definitions)', () => {
    const used = new Set([
      ...emittedExtensions.map((e) => e.url),
      ...srcUrls.ext.keys(),
      ...emittedIdentifiers.map((i) => i.system),
      ...srcUrls.ids.keys(),
    ]);
    expect([...gatewayExtensionUrls, ...gatewayIdSystems].filter((u) => !used.has(u))).to.deep.equal([]);
  });

  it('each emitted extension sits on an element its StructureDefinition names as context', () => {
    const problems = new Set<string>();
    for (const e of emittedExtensions) {
      const def = extensionDefs.get(e.url);
      if (def && !def.contexts.includes(e.context))
        problems.add(`${lastSegment(e.url)} on ${e.context} (allowed: ${def.contexts.join(', ')}) at ${e.at}`);
    }
    expect([...problems]).to.deep.equal([]);
  });

  it('each emitted extension has the value[x] type (or the sub-extension slices) its StructureDefinition allows', () => {
    const problems: string[] = [];
    for (const e of emittedExtensions) {
      const def = extensionDefs.get(e.url);
      if (!def) continue;
      const name = lastSegment(e.url);
      if (def.valueTypes !== null) {
        if (e.valueKeys.length !== 1 || !def.valueTypes.includes(e.valueKeys[0]!))
          problems.push(
            `${name}: ${e.valueKeys.join('+') || 'no value'} where ${def.valueTypes.join('|')} is allowed, at ${e.at}`,
          );
        if (e.subs.length > 0) problems.push(`${name}: simple extension with sub-extensions at ${e.at}`);
        if (e.concrete && def.pattern !== undefined && !matchesPattern(e.value, def.pattern))
          problems.push(`${name}: ${JSON.stringify(e.value)} does not match ${JSON.stringify(def.pattern)} at ${e.at}`);
        continue;
      }
      if (e.valueKeys.length > 0) problems.push(`${name}: complex extension with ${e.valueKeys.join('+')} at ${e.at}`);
      const counts = new Map<string, number>();
      for (const s of e.subs) {
        const found = [...def.slices].find(([, sl]) => sl.url === s.url);
        if (!found) {
          problems.push(
            `${name}: sub-extension ${String(s.url)} is not a slice (${[...def.slices.values()].map((sl) => String(sl.url)).join(', ')}) at ${e.at}`,
          );
          continue;
        }
        const [sliceName, slice] = found;
        counts.set(sliceName, (counts.get(sliceName) ?? 0) + 1);
        if (s.valueKeys.length !== 1 || !slice.valueTypes.includes(s.valueKeys[0]!))
          problems.push(
            `${name}.${String(s.url)}: ${s.valueKeys.join('+') || 'no value'} where ${slice.valueTypes.join('|')} is allowed, at ${e.at}`,
          );
        if (e.concrete && slice.pattern !== undefined && !matchesPattern(s.value, slice.pattern))
          problems.push(
            `${name}.${String(s.url)}: ${JSON.stringify(s.value)} does not match ${JSON.stringify(slice.pattern)} at ${e.at}`,
          );
      }
      for (const [sliceName, slice] of def.slices) {
        const n = counts.get(sliceName) ?? 0;
        if (n > slice.max) problems.push(`${name}.${sliceName}: ${n} > max ${slice.max} at ${e.at}`);
        // A mapping template drops an element whose payload value is absent, so only golden output shows the minimum.
        if (e.concrete && n < slice.min) problems.push(`${name}.${sliceName}: ${n} < min ${slice.min} at ${e.at}`);
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('extension StructureDefinitions are well-formed Extension constraints named after their URL', () => {
    const problems: string[] = [];
    for (const [url, def] of extensionDefs) {
      const sd = def.sd;
      const id = lastSegment(url);
      const where = rel(def.file);
      const expect1 = (ok: boolean, what: string): void => {
        if (!ok) problems.push(`${where}: ${what}`);
      };
      expect1(url.startsWith(EXT_BASE), `url ${url} is not under ${EXT_BASE}`);
      expect1(sd.id === id && def.file.endsWith(`StructureDefinition-${id}.json`), `id/file name must be ${id}`);
      expect1(
        typeof sd.name === 'string' && /^[A-Z][A-Za-z0-9]*$/.test(sd.name),
        `name ${String(sd.name)} is not PascalCase`,
      );
      expect1(
        typeof sd.title === 'string' && /[\u3040-\u30ff\u4e00-\u9fff]/.test(sd.title) && /[A-Za-z]{3}/.test(sd.title),
        'title must be Japanese + English',
      );
      expect1(
        typeof sd.description === 'string' &&
          /[\u3040-\u30ff\u4e00-\u9fff]/.test(sd.description) &&
          /[A-Za-z]{3}/.test(sd.description),
        'description must be Japanese + English',
      );
      expect1(
        sd.status === 'active' && sd.fhirVersion === '4.0.1' && sd.kind === 'complex-type' && sd.abstract === false,
        'status/fhirVersion/kind/abstract',
      );
      expect1(
        sd.baseDefinition === 'http://hl7.org/fhir/StructureDefinition/Extension' && sd.derivation === 'constraint',
        'baseDefinition/derivation',
      );
      const ctx = (sd.context ?? []) as Array<{ type?: string }>;
      expect1(ctx.length > 0 && ctx.every((c) => c.type === 'element'), 'context: one or more, of type element');
      const elements = ((sd.differential as Obj | undefined)?.element ?? []) as Element[];
      expect1(
        elements.find((e) => e.id === 'Extension.url')?.fixedUri === url,
        'Extension.url must be fixed to the url',
      );
      if (def.valueTypes === null) {
        expect1(def.slices.size > 0, 'a complex extension needs slices of Extension.extension');
        expect1(
          elements.find((e) => e.id === 'Extension.extension')?.slicing !== undefined,
          'Extension.extension must be sliced',
        );
        for (const [name, s] of def.slices)
          expect1(s.url === name && s.valueTypes.length === 1, `slice ${name}: url fixed to its name, one value type`);
      } else {
        expect1(def.valueTypes.length === 1, 'value[x] must be constrained to one type');
        expect1(
          elements.find((e) => e.id === 'Extension.extension')?.max === '0',
          'a simple extension has Extension.extension 0..0',
        );
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('NamingSystems are active identifier systems named after their URL', () => {
    const problems: string[] = [];
    for (const url of gatewayIdSystems) {
      const { file, ns } = namingSystems.get(url)!;
      const id = lastSegment(url);
      if (ns.id !== id || !file.endsWith(`NamingSystem-${id}.json`))
        problems.push(`${rel(file)}: id/file name must be ${id}`);
      if (ns.kind !== 'identifier' || ns.status !== 'active')
        problems.push(`${rel(file)}: kind identifier, status active`);
      if (typeof ns.name !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(ns.name))
        problems.push(`${rel(file)}: name ${String(ns.name)} is not PascalCase`);
      if (
        typeof ns.description !== 'string' ||
        !/[\u3040-\u30ff\u4e00-\u9fff]/.test(ns.description) ||
        !/[A-Za-z]{3}/.test(ns.description)
      )
        problems.push(`${rel(file)}: description must be Japanese + English`);
    }
    expect(problems).to.deep.equal([]);
  });

  it('every profile file passes the gateway R4 base validation, and the directory loads without problems', () => {
    expect(validator.loadIssues).to.deep.equal([]);
    const problems: string[] = [];
    for (const file of profileFiles) {
      for (const i of validator.validate(readJson(file))) {
        if (i.severity === 'error' || i.severity === 'fatal')
          problems.push(`${rel(file)}: ${i.expression ?? ''} ${i.diagnostics ?? ''}`);
      }
    }
    expect(problems).to.deep.equal([]);
  });
});
