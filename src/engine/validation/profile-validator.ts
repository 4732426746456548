// A small interpreter of our own StructureDefinition *differentials* (kind resource, derivation constraint).
// Why not Medplum's profile support: it needs a snapshot (SUSHI at build time) and skips required bindings.
// Interpreted per differential element: min/max, fixed[x] (exact), pattern[x] (subset), binding.strength=required
// against the ValueSets/CodeSystems passed in. NOT interpreted: slicing (elements with a sliceName or a ':' in
// their id are skipped), constraints/invariants, type/targetProfile narrowing, mustSupport, snapshots.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  StructureDefinition,
  ValueSet,
  ValueSetComposeInclude,
  ValueSetExpansionContains,
} from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';

export interface ProfileValidator {
  /** Apply every profile in `meta.profile` that we know, plus `opts.profile`. Unknown meta.profile URLs → information. */
  validate(resource: unknown, opts?: { profile?: string }): Issue[];
  has(url: string): boolean;
  readonly profiles: readonly string[];
  /** Problems found while loading (e.g. a required binding whose ValueSet cannot be expanded). */
  readonly loadIssues: readonly Issue[];
}

/** Read every top-level `*.json` FHIR resource in a directory (sub-directories such as `schemas/` are not read). */
export async function loadProfilesDir(dir: string): Promise<unknown[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && d.name.endsWith('.json'))
    .map((d) => d.name);
  const out: unknown[] = [];
  for (const name of names.sort()) {
    const text = await readFile(join(dir, name), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${join(dir, name)}: invalid JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof json === 'object' && json !== null && 'resourceType' in json) out.push(json);
  }
  return out;
}

// ---------- terminology: expand our (small, enumerable) ValueSets to sets of "system|code" ----------

interface Expansion {
  codes: Set<string>;
  /** Why the expansion is incomplete; a binding with problems is reported, not silently passed. */
  problems: string[];
}

const stripVersion = (url: string): string => url.split('|')[0] ?? url;

function conceptCodes(system: string, concepts: readonly CodeSystemConcept[] | undefined, into: Set<string>): void {
  for (const c of concepts ?? []) {
    into.add(`${system}|${c.code}`);
    conceptCodes(system, c.concept, into);
  }
}

function containsCodes(contains: readonly ValueSetExpansionContains[] | undefined, into: Set<string>): void {
  for (const c of contains ?? []) {
    if (c.code !== undefined) into.add(`${c.system ?? ''}|${c.code}`);
    containsCodes(c.contains, into);
  }
}

function createTerminology(valueSets: Map<string, ValueSet>, codeSystems: Map<string, CodeSystem>) {
  const cache = new Map<string, Expansion>();
  const expandVs = (vs: ValueSet, stack: readonly string[]): Expansion => {
    const codes = new Set<string>();
    const problems: string[] = [];
    containsCodes(vs.expansion?.contains, codes);
    const part = (inc: ValueSetComposeInclude): Set<string> => {
      let s: Set<string> | undefined;
      if (inc.filter?.length) problems.push(`include.filter is not supported (${inc.system ?? ''})`);
      if (inc.concept?.length) {
        s = new Set(inc.concept.map((c) => `${inc.system ?? ''}|${c.code}`));
      } else if (inc.system) {
        s = new Set();
        const cs = codeSystems.get(inc.system);
        if (!cs) problems.push(`CodeSystem ${inc.system} is not loaded`);
        else if (cs.content !== 'complete')
          problems.push(`CodeSystem ${inc.system} is not complete (content: ${cs.content})`);
        conceptCodes(inc.system, cs?.concept, s);
      }
      // include.valueSet: R4 takes the intersection with the system part (or of the listed value sets alone).
      for (const ref of inc.valueSet ?? []) {
        const other = expand(ref, stack);
        problems.push(...other.problems);
        s = s === undefined ? new Set(other.codes) : new Set([...s].filter((c) => other.codes.has(c)));
      }
      return s ?? new Set();
    };
    for (const inc of vs.compose?.include ?? []) part(inc).forEach((c) => codes.add(c));
    for (const exc of vs.compose?.exclude ?? []) part(exc).forEach((c) => codes.delete(c));
    return { codes, problems };
  };
  const expand = (url: string, stack: readonly string[] = []): Expansion => {
    const key = stripVersion(url);
    const vs = valueSets.get(key);
    if (!vs) return { codes: new Set(), problems: [`ValueSet ${url} is not loaded`] };
    if (stack.includes(key)) return { codes: new Set(), problems: [`ValueSet ${url} includes itself`] };
    const cached = cache.get(key);
    if (cached) return cached;
    const result = expandVs(vs, [...stack, key]);
    cache.set(key, result);
    return result;
  };
  return { expand };
}

// ---------- compiled differential rules ----------

interface Rule {
  /** Element path below the resource, e.g. ['content', 'attachment', 'contentType']. */
  segs: string[];
  min?: number;
  max?: number;
  fixed?: unknown;
  pattern?: unknown;
  binding?: { valueSet: string; expansion: Expansion };
}

interface Profile {
  url: string;
  type: string;
  rules: Rule[];
}

function typedValue(el: ElementDefinition, prefix: 'fixed' | 'pattern'): { found: boolean; value: unknown } {
  for (const [k, v] of Object.entries(el))
    if (k.startsWith(prefix) && /^[A-Z]/.test(k.slice(prefix.length))) return { found: true, value: v };
  return { found: false, value: undefined };
}

function compileProfile(
  sd: StructureDefinition,
  terminology: ReturnType<typeof createTerminology>,
  loadIssues: Issue[],
): Profile {
  const rules: Rule[] = [];
  for (const el of sd.differential?.element ?? []) {
    const segs = el.path.split('.').slice(1);
    if (segs.length === 0 || el.sliceName !== undefined || (el.id ?? '').includes(':')) continue; // slicing: not interpreted
    const rule: Rule = { segs };
    if (el.min !== undefined) rule.min = el.min;
    if (el.max !== undefined) rule.max = el.max === '*' ? Infinity : Number(el.max);
    const fixed = typedValue(el, 'fixed');
    if (fixed.found) rule.fixed = fixed.value;
    const pattern = typedValue(el, 'pattern');
    if (pattern.found) rule.pattern = pattern.value;
    if (el.binding?.strength === 'required' && el.binding.valueSet) {
      const expansion = terminology.expand(el.binding.valueSet);
      rule.binding = { valueSet: el.binding.valueSet, expansion };
      for (const p of expansion.problems)
        loadIssues.push(
          issue('not-supported', `${sd.url} ${el.path}: ${p}; binding cannot be fully checked`, undefined, 'warning'),
        );
    }
    rules.push(rule);
  }
  return { url: sd.url, type: sd.type, rules };
}

// ---------- matching helpers ----------

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) ||
    Array.isArray(b)
  )
    return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** FHIR pattern semantics: every element of the pattern is present in the value; arrays match element-wise "some". */
function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern))
    return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return Object.entries(pattern).every(([k, p]) => matchesPattern((value as Record<string, unknown>)[k], p));
  }
  return value === pattern;
}

interface Node {
  value: unknown;
  path: string;
}

/** Values of child `seg` of each node; `name[x]` matches `nameQuantity` etc. Arrays give one node per element. */
function children(node: Node, seg: string): { present: number; nodes: Node[]; name: string } {
  const obj = node.value;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { present: 0, nodes: [], name: seg };
  const o = obj as Record<string, unknown>;
  let key = seg;
  if (seg.endsWith('[x]')) {
    const stem = seg.slice(0, -3);
    key = Object.keys(o).find((k) => k.startsWith(stem) && /^[A-Z]/.test(k.slice(stem.length))) ?? seg;
  }
  const v = o[key];
  const ext = o[`_${key}`]; // a primitive that carries only extensions still counts as present
  const nodes: Node[] = Array.isArray(v)
    ? v.map((x, i) => ({ value: x, path: `${node.path}.${key}[${i}]` }))
    : v === undefined
      ? []
      : [{ value: v, path: `${node.path}.${key}` }];
  const present = Math.max(nodes.length, Array.isArray(ext) ? ext.length : ext === undefined ? 0 : 1);
  return { present, nodes, name: key };
}

function bindingIssue(value: unknown, path: string, b: NonNullable<Rule['binding']>): Issue | undefined {
  const codes = b.expansion.codes;
  const inSet = (system: unknown, code: unknown): boolean =>
    typeof code === 'string' &&
    (system === undefined ? [...codes].some((c) => c.endsWith(`|${code}`)) : codes.has(`${String(system)}|${code}`));
  let ok: boolean;
  let shown: string;
  if (typeof value === 'string') {
    ok = inSet(undefined, value);
    shown = `'${value}'`;
  } else if (typeof value === 'object' && value !== null && ('code' in value || 'system' in value)) {
    const c = value as { system?: string; code?: string };
    ok = inSet(c.system, c.code);
    shown = `${c.system ?? ''}|${c.code ?? ''}`;
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    // CodeableConcept: one coding from the ValueSet is enough; text alone does not satisfy a required binding.
    const coding = (value as { coding?: unknown }).coding;
    const list = (Array.isArray(coding) ? coding : []) as { system?: string; code?: string }[];
    ok = list.some((c) => inSet(c.system, c.code));
    shown = list.length > 0 ? list.map((c) => `${c.system ?? ''}|${c.code ?? ''}`).join(', ') : 'no coding';
  } else {
    return undefined; // not a coded shape; the base validator reports wrong types
  }
  if (ok) return undefined;
  if (b.expansion.problems.length > 0) {
    return issue(
      'not-supported',
      `Cannot check ${shown} against ValueSet ${b.valueSet}: ${b.expansion.problems.join('; ')}`,
      path,
      'warning',
    );
  }
  return issue('code-invalid', `${shown} is not in the required ValueSet ${b.valueSet}`, path);
}

function applyProfile(resource: Record<string, unknown>, rt: string, p: Profile): Issue[] {
  if (p.type !== rt) return [issue('invalid', `Profile ${p.url} is for ${p.type}, not ${rt}`, `${rt}.resourceType`)];
  const out: Issue[] = [];
  for (const rule of p.rules) {
    let parents: Node[] = [{ value: resource, path: rt }];
    for (const seg of rule.segs.slice(0, -1)) parents = parents.flatMap((n) => children(n, seg).nodes);
    const last = rule.segs[rule.segs.length - 1] ?? '';
    for (const parent of parents) {
      const { present, nodes, name } = children(parent, last);
      if (rule.min !== undefined && present < rule.min) {
        out.push(
          issue(
            'required',
            `${p.url}: ${rule.segs.join('.')} needs at least ${rule.min} value(s), found ${present}`,
            `${parent.path}.${name}`,
          ),
        );
      }
      if (rule.max !== undefined && present > rule.max) {
        const at = nodes[rule.max]?.path ?? `${parent.path}.${name}`;
        out.push(
          issue(
            'structure',
            `${p.url}: ${rule.segs.join('.')} allows at most ${rule.max} value(s), found ${present}`,
            at,
          ),
        );
      }
      for (const n of nodes) {
        if (rule.fixed !== undefined && !deepEqual(n.value, rule.fixed)) {
          out.push(issue('value', `${p.url}: value must be exactly ${JSON.stringify(rule.fixed)}`, n.path));
        }
        if (rule.pattern !== undefined && !matchesPattern(n.value, rule.pattern)) {
          out.push(issue('value', `${p.url}: value must match pattern ${JSON.stringify(rule.pattern)}`, n.path));
        }
        const bad = rule.binding ? bindingIssue(n.value, n.path, rule.binding) : undefined;
        if (bad) out.push(bad);
      }
    }
  }
  return out;
}

/** Pure: build a validator from already-parsed resources (StructureDefinitions, ValueSets, CodeSystems; others ignored). */
export function createProfileValidator(resources: readonly unknown[]): ProfileValidator {
  const sds: StructureDefinition[] = [];
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  const loadIssues: Issue[] = [];
  const register = <T extends { url?: string | undefined }>(map: Map<string, T>, r: T, kind: string): void => {
    if (!r.url) return;
    if (map.has(r.url)) throw new Error(`Duplicate ${kind} ${r.url}: validation would depend on file order`);
    map.set(r.url, r);
  };
  const sdUrls = new Map<string, StructureDefinition>();
  for (const r of resources) {
    const rt = (r as { resourceType?: unknown }).resourceType;
    if (rt === 'ValueSet') register(valueSets, r as ValueSet, 'ValueSet');
    else if (rt === 'CodeSystem') register(codeSystems, r as CodeSystem, 'CodeSystem');
    else if (rt === 'StructureDefinition') {
      const sd = r as StructureDefinition;
      register(sdUrls, sd, 'StructureDefinition');
      if (sd.kind === 'resource' && sd.derivation === 'constraint') sds.push(sd);
    }
  }
  const terminology = createTerminology(valueSets, codeSystems);
  const profiles = new Map(sds.map((sd) => [sd.url, compileProfile(sd, terminology, loadIssues)] as const));

  return {
    profiles: [...profiles.keys()],
    loadIssues,
    has: (url) => profiles.has(stripVersion(url)),
    validate(resource, opts) {
      if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return [];
      const r = resource as Record<string, unknown>;
      const rt = typeof r.resourceType === 'string' ? r.resourceType : 'Resource';
      const out: Issue[] = [];
      const applied = new Set<string>();
      const meta = r.meta as { profile?: unknown } | undefined;
      const declared = Array.isArray(meta?.profile) ? (meta.profile as unknown[]) : [];
      declared.forEach((u, i) => {
        if (typeof u !== 'string') return;
        const p = profiles.get(stripVersion(u));
        if (!p) {
          out.push(
            issue(
              'informational',
              `Profile ${u} is declared but not interpreted by this gateway`,
              `${rt}.meta.profile[${i}]`,
              'information',
            ),
          );
        } else if (!applied.has(p.url)) {
          applied.add(p.url);
          out.push(...applyProfile(r, rt, p));
        }
      });
      if (opts?.profile !== undefined) {
        const p = profiles.get(stripVersion(opts.profile));
        if (!p) out.push(issue('not-found', `Unknown profile ${opts.profile}`));
        else if (!applied.has(p.url)) out.push(...applyProfile(r, rt, p));
      }
      return out;
    },
  };
}
