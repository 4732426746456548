// Shared mapping snippets (mappings/snippets/<name>.json, docs/MAPPING-FORMAT.md): the insured person, the insurer,
// the care office… written once, with named parameters, instead of copied into every form's mapping.
//   {"$snippet": "patient", "with": {"insuredNumber": "header.insuredNumber", …}}   in a mapping: a use
//   {"$param": "insuredNumber"}                                                    in a snippet: the value passed
// Uses are replaced at load time, so a request resolves the same template it would if the snippet had been
// copied in: per-request cost does not change. Substitution is structural, never string replacement, and a value
// passed in is inserted as is (a snippet's own parameters never reach into it). An optional parameter left out
// acts as a payload value that is never present: the directive using it goes, and so does whatever held only
// that (decided by the template resolver itself, so load time drops exactly what a request would have dropped).
// Anything that does not resolve (unknown snippet, missing or unknown parameter) stops start-up, named by file
// and place, rather than surfacing on the first request.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MappingSnippet } from './form-definition.js';
import { resolveConstant } from './template.js';
import { isObject, type Json, type JsonObject } from '../../base/json-paths.js';

export const snippetFile = (name: string): string => `mappings/snippets/${name}.json`;

/** Directive keys whose value is a payload path (or an alias): a parameter there must be passed a string. */
const PATH_KEYS = new Set(['$path', '$item', '$each', '$eachItem', '$if', '$ifItem', '$ref', '$refEach']);

const hasDirective = (t: Json): boolean =>
  Array.isArray(t)
    ? t.some(hasDirective)
    : isObject(t) && Object.entries(t).some(([k, v]) => k.startsWith('$') || hasDirective(v));

function paramsUsed(t: Json, where: string, into: Array<{ name: string; where: string }> = []): typeof into {
  if (Array.isArray(t)) t.forEach((x, i) => paramsUsed(x, `${where}[${i}]`, into));
  else if (isObject(t)) {
    if (typeof t.$param === 'string') into.push({ name: t.$param, where });
    for (const [k, v] of Object.entries(t)) paramsUsed(v, `${where}.${k}`, into);
  }
  return into;
}

/** What is wrong with a snippet file on its own (its shape, and parameters declared against those used). */
export function snippetProblems(name: string, raw: unknown): string[] {
  const file = snippetFile(name);
  if (!isObject(raw)) return [`${file}: not a JSON object`];
  const problems: string[] = [];
  for (const k of Object.keys(raw))
    if (!['name', 'description', 'parameters', 'required', 'template'].includes(k))
      problems.push(`${file}: unknown key "${k}" (a snippet has name, description, parameters, required, template)`);
  if (raw.name !== name) problems.push(`${file}: name must be "${name}", as the file is called`);
  if (typeof raw.description !== 'string') problems.push(`${file}: description must say what the snippet is`);
  const { parameters, required, template } = raw;
  if (!isObject(parameters) || !Object.values(parameters).every((d) => typeof d === 'string'))
    return [...problems, `${file}: parameters must map each parameter name to what a use passes for it`];
  if (!Array.isArray(required) || !required.every((r) => typeof r === 'string' && r in parameters))
    problems.push(`${file}: required must list parameters (${Object.keys(parameters).join(', ')})`);
  if (!isObject(template)) return [...problems, `${file}: template must be a template object`];
  const used = paramsUsed(template, 'template');
  for (const u of used)
    if (!(u.name in parameters)) problems.push(`${file} ${u.where}: $param "${u.name}" is not declared in parameters`);
  for (const p of Object.keys(parameters))
    if (!used.some((u) => u.name === p))
      problems.push(`${file}: parameter "${p}" is declared but the template never uses it`);
  return problems;
}

/** Every snippet under mappings/snippets/, checked on its own; throws with all problems at once. */
export function loadSnippets(root: string): Map<string, MappingSnippet> {
  const dir = join(root, 'mappings', 'snippets');
  const out = new Map<string, MappingSnippet>();
  if (!existsSync(dir)) return out;
  const problems: string[] = [];
  const files = readdirSync(dir).filter((n) => n.endsWith('.json'));
  for (const f of files.sort()) {
    const name = f.replace(/\.json$/, '');
    const raw: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const found = snippetProblems(name, raw);
    if (found.length) problems.push(...found);
    else out.set(name, raw as unknown as MappingSnippet);
  }
  if (problems.length) throw new Error(`mappings/snippets/ has problems:\n  ${problems.join('\n  ')}`);
  return out;
}

/** An omitted optional parameter, and whatever it takes with it. */
const ABSENT = Symbol('absent');
type Expanded = Json | typeof ABSENT;

interface Scope {
  /** the file the template being expanded comes from */
  file: string;
  /** inside a snippet: the values passed to this use of it */
  args?: ReadonlyMap<string, Json>;
  /** the snippets being expanded, outermost first: a snippet that uses itself would never end */
  chain: readonly string[];
  /** the outermost use, in a mapping file, so a problem inside a snippet says which use hit it */
  usedAt?: string;
}

/** What a removal left behind: kept while it still has directives, else resolved now (or gone, if it was shell). */
function settle(t: Json): Expanded {
  if (hasDirective(t)) return t;
  const r = resolveConstant(t);
  return r === undefined ? ABSENT : r;
}

class Expander {
  readonly problems: string[] = [];
  constructor(private readonly snippets: ReadonlyMap<string, MappingSnippet>) {}

  private problem(scope: Scope, where: string, text: string): void {
    this.problems.push(`${scope.file} ${where}: ${text}${scope.usedAt ? ` (in the use at ${scope.usedAt})` : ''}`);
  }

  expand(t: Json, scope: Scope, where: string, key?: string): Expanded {
    if (Array.isArray(t)) {
      const out: Json[] = [];
      let removed = false;
      t.forEach((x, i) => {
        const r = this.expand(x, scope, `${where}[${i}]`);
        if (r === ABSENT) removed = true;
        else out.push(r);
      });
      return removed ? settle(out) : out;
    }
    if (!isObject(t)) return t;
    if ('$param' in t) return this.param(t, scope, where, key);
    if ('$snippet' in t) return this.use(t, scope, where);
    const out: JsonObject = {};
    let removed = false;
    for (const [k, v] of Object.entries(t)) {
      const r = this.expand(v, scope, `${where}.${k}`, k);
      // A directive that lost its argument (say the $path of a left-out phone number) goes as a whole.
      if (r === ABSENT && k.startsWith('$')) return ABSENT;
      if (r === ABSENT) removed = true;
      else out[k] = r;
    }
    return removed ? settle(out) : out;
  }

  private param(t: JsonObject, scope: Scope, where: string, key: string | undefined): Expanded {
    const name = String(t.$param);
    if (Object.keys(t).length > 1)
      this.problem(scope, where, `$param stands alone (found ${Object.keys(t).join(', ')})`);
    if (!scope.args) {
      this.problem(scope, where, `$param "${name}" outside a snippet (mappings pass values with "with")`);
      return ABSENT;
    }
    const value = scope.args.get(name);
    if (value === undefined) return ABSENT;
    if (key !== undefined && PATH_KEYS.has(key) && typeof value !== 'string')
      this.problem(scope, where, `parameter "${name}" is used as ${key}: it must be passed a payload path (a string)`);
    return value;
  }

  private use(t: JsonObject, scope: Scope, where: string): Expanded {
    const name = String(t.$snippet);
    const extra = Object.keys(t).filter((k) => k !== '$snippet' && k !== 'with');
    if (extra.length)
      this.problem(scope, where, `a snippet use holds "$snippet" and "with" only (found ${extra.join(', ')})`);
    const snippet = this.snippets.get(name);
    if (!snippet) {
      const known = [...this.snippets.keys()].join(', ') || 'none';
      this.problem(scope, where, `unknown snippet "${name}" (mappings/snippets/ has ${known})`);
      return ABSENT;
    }
    if (scope.chain.includes(name)) {
      this.problem(scope, where, `snippet "${name}" uses itself (${[...scope.chain, name].join(' → ')})`);
      return ABSENT;
    }
    const passed = t.with ?? {};
    if (!isObject(passed)) {
      this.problem(scope, where, `"with" must be an object of parameter values`);
      return ABSENT;
    }
    const args = new Map<string, Json>();
    for (const [p, v] of Object.entries(passed)) {
      if (!(p in snippet.parameters)) {
        const takes = Object.keys(snippet.parameters).join(', ');
        this.problem(scope, `${where}.with.${p}`, `snippet "${name}" has no parameter "${p}" (it takes ${takes})`);
        continue;
      }
      // Values are expanded where they are written: a snippet's own parameters never reach into them.
      const r = this.expand(v, scope, `${where}.with.${p}`);
      if (r !== ABSENT) args.set(p, r);
    }
    for (const p of snippet.required)
      if (!args.has(p) && !(p in passed))
        this.problem(scope, where, `snippet "${name}" needs parameter "${p}" (${snippet.parameters[p]})`);
    const inner: Scope = {
      file: snippetFile(name),
      args,
      chain: [...scope.chain, name],
      usedAt: scope.usedAt ?? `${scope.file} ${where}`,
    };
    return this.expand(snippet.template, inner, 'template');
  }
}

/**
 * Template parts of one mapping file (keyed by where they sit: "resources", "questionnaireResponse") with every
 * snippet use replaced by its snippet's template. Throws with every problem, each naming the file and the place.
 */
export function expandSnippets(
  parts: Readonly<Record<string, Json>>,
  snippets: ReadonlyMap<string, MappingSnippet>,
  file: string,
): Record<string, Json> {
  const expander = new Expander(snippets);
  const out: Record<string, Json> = {};
  for (const [where, t] of Object.entries(parts)) {
    const r = expander.expand(t, { file, chain: [] }, where);
    if (r !== ABSENT) out[where] = r;
  }
  if (expander.problems.length) throw new Error(`snippets do not resolve:\n  ${expander.problems.join('\n  ')}`);
  return out;
}
