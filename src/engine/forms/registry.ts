// Loads every form the gateway knows from data: mappings/*.mapping.json with the shared snippets they use
// (mappings/snippets/), the Questionnaires and code maps they name, and the generated payload schemas. A mapping
// that does not fit its Questionnaire, or a snippet use that does not resolve, stops start-up with a message
// naming the file and place, rather than failing on the first request that hits it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Questionnaire } from 'fhir/r4.js';
import { PROJECT_ROOT } from '../../base/project.js';
import { indexItems, type FormDefinition, type FormMapping, type MappingSnippet } from './form-definition.js';
import { expandSnippets, loadSnippets } from './snippets.js';
import { isMultiResource } from './template.js';
import type { Json, JsonObject } from '../../base/json-paths.js';

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

export interface FormRegistry {
  forms: Map<string, FormDefinition>;
  get(name: string): FormDefinition | undefined;
  byQuestionnaire(canonical: string): FormDefinition | undefined;
}

export function loadQuestionnaires(profilesDir: string): Map<string, Questionnaire> {
  const out = new Map<string, Questionnaire>();
  for (const f of readdirSync(profilesDir).filter((n) => /^Questionnaire-.*\.json$/.test(n))) {
    const q = readJson<Questionnaire>(join(profilesDir, f));
    if (q.url) out.set(q.url, q);
  }
  return out;
}

/** Checks a mapping against its Questionnaire; returns problems as text. */
export function mappingProblems(def: Omit<FormDefinition, 'payloadSchema'>): string[] {
  const problems: string[] = [];
  const { paths } = def.mapping;
  // Search relies on it: a DocumentReference's type code is the form its access tag names (search-access-tag).
  const docType = def.mapping.documentType as FormMapping['documentType'] | undefined;
  if (docType && docType.code !== def.name)
    problems.push(`documentType.code is ${JSON.stringify(docType.code)}; it must be the form name`);
  for (const [linkId, item] of def.items) {
    const needsPath = item.type !== 'group' || item.repeats === true;
    if (needsPath && !paths[linkId]) problems.push(`item ${linkId} (${item.text ?? ''}) has no path`);
    if (item.type !== 'group' && item.item?.length)
      problems.push(`item ${linkId}: questions with sub-items are not supported; use a group`);
  }
  for (const linkId of Object.keys(paths)) {
    const item = def.items.get(linkId);
    if (!item) problems.push(`path for ${linkId} names no item of ${def.mapping.questionnaire}`);
    else if (item.type === 'group' && !item.repeats)
      problems.push(`group ${linkId} does not repeat and must not have a path`);
  }
  const aliases = new Set(
    Object.keys(def.mapping.resources).filter((a) => !isMultiResource(def.mapping.resources[a]!)),
  );
  const multiAliases = new Set(
    Object.keys(def.mapping.resources).filter((a) => isMultiResource(def.mapping.resources[a]!)),
  );
  const { subject, authors, custodian } = def.mapping.document;
  for (const a of [subject, ...authors, ...(custodian ? [custodian] : [])])
    if (!aliases.has(a)) problems.push(`document names unknown (or multi-resource) alias ${a}`);
  const walk = (v: unknown, where: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (typeof v === 'object' && v !== null) {
      const o = v as JsonObject;
      if (typeof o.$ref === 'string' && !aliases.has(o.$ref))
        problems.push(`${where}: $ref to unknown (or multi-resource) alias ${o.$ref}`);
      if (typeof o.$codeMap === 'string' && !def.codeMaps.has(o.$codeMap))
        problems.push(`${where}: unknown code map ${o.$codeMap}`);
      if (typeof o.$refEach === 'string' && !multiAliases.has(o.$refEach))
        problems.push(`${where}: $refEach names no multi-resource alias ${o.$refEach}`);
      for (const [k, x] of Object.entries(o)) walk(x, `${where}.${k}`);
    }
  };
  walk(def.mapping.resources, 'resources');
  walk(def.mapping.questionnaireResponse, 'questionnaireResponse');
  return problems;
}

/** A mapping file as the engine uses it: its snippet uses replaced by the snippets' templates (at load time). */
export function readMapping(
  root: string,
  mappingFile: string,
  snippets: ReadonlyMap<string, MappingSnippet> = loadSnippets(root),
): FormMapping {
  const raw = readJson<FormMapping>(join(root, 'mappings', mappingFile));
  const parts: Record<string, Json> = { resources: raw.resources };
  if (raw.questionnaireResponse) parts.questionnaireResponse = raw.questionnaireResponse;
  const expanded = expandSnippets(parts, snippets, `mappings/${mappingFile}`);
  return { ...raw, ...(expanded as Pick<FormMapping, 'resources' | 'questionnaireResponse'>) };
}

export function loadFormDefinitionSansSchema(
  root: string,
  mappingFile: string,
  questionnaires: Map<string, Questionnaire>,
  codeMaps: Map<string, Record<string, string | number>>,
  snippets: ReadonlyMap<string, MappingSnippet> = loadSnippets(root),
): Omit<FormDefinition, 'payloadSchema'> {
  const mapping = readMapping(root, mappingFile, snippets);
  const questionnaire = questionnaires.get(mapping.questionnaire);
  if (!questionnaire)
    throw new Error(`mappings/${mappingFile}: no Questionnaire with url ${mapping.questionnaire} in profiles/`);
  const def = {
    name: mapping.form,
    mapping,
    questionnaire,
    questionnaireCanonical: questionnaire.version
      ? `${questionnaire.url}|${questionnaire.version}`
      : questionnaire.url!,
    items: indexItems(questionnaire.item),
    codeMaps,
  };
  const problems = mappingProblems(def);
  if (problems.length)
    throw new Error(`mappings/${mappingFile} does not fit ${mapping.questionnaire}:\n  ${problems.join('\n  ')}`);
  return def;
}

export function loadCodeMaps(root: string): Map<string, Record<string, string | number>> {
  const dir = join(root, 'mappings', 'codemaps');
  const out = new Map<string, Record<string, string | number>>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const cm = readJson<{ name: string; map: Record<string, string | number> }>(join(dir, f));
    out.set(cm.name, cm.map);
  }
  return out;
}

export const mappingFiles = (root: string): string[] =>
  readdirSync(join(root, 'mappings'))
    .filter((n) => n.endsWith('.mapping.json'))
    .sort();

export function loadFormRegistry(root = PROJECT_ROOT): FormRegistry {
  const questionnaires = loadQuestionnaires(join(root, 'profiles'));
  const codeMaps = loadCodeMaps(root);
  const snippets = loadSnippets(root);
  const forms = new Map<string, FormDefinition>();
  for (const file of mappingFiles(root)) {
    const def = loadFormDefinitionSansSchema(root, file, questionnaires, codeMaps, snippets);
    const schemaFile = join(root, 'profiles', 'schemas', `${def.name}.schema.json`);
    if (!existsSync(schemaFile)) throw new Error(`${schemaFile} is missing: run npm run profiles:build`);
    forms.set(def.name, { ...def, payloadSchema: readJson<JsonObject>(schemaFile) });
  }
  const byCanonical = new Map<string, FormDefinition>();
  for (const def of forms.values()) {
    byCanonical.set(def.questionnaireCanonical, def);
    byCanonical.set(def.questionnaire.url!, def);
  }
  return { forms, get: (n) => forms.get(n), byQuestionnaire: (c) => byCanonical.get(c) };
}
