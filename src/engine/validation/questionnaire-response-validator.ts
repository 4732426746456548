// Check a QuestionnaireResponse against its Questionnaire: the part of form validation that no base-spec or
// profile validator does. Every problem is collected with its path; nothing throws.
// Not interpreted (our forms do not use them): enableWhen, answerValueSet, initial, readOnly.
import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';
import { constraintsOf, type ItemConstraints } from '../forms/item-constraints.js';
import { itemTypeOf, type AnswerKey } from '../forms/item-types.js';

/** Where each item sits (to say where a misplaced one belongs) and what it asks (read once per item). */
interface ItemInfo {
  def: QuestionnaireItem;
  parent: string | undefined;
  constraints: ItemConstraints;
}

const indexes = new WeakMap<Questionnaire, Map<string, ItemInfo>>();

function indexOf(q: Questionnaire): Map<string, ItemInfo> {
  const cached = indexes.get(q);
  if (cached) return cached;
  const map = new Map<string, ItemInfo>();
  const walk = (items: readonly QuestionnaireItem[] | undefined, parent: string | undefined): void => {
    for (const def of items ?? []) {
      if (!map.has(def.linkId)) map.set(def.linkId, { def, parent, constraints: constraintsOf(def) });
      walk(def.item, def.linkId);
    }
  };
  walk(q.item, undefined);
  indexes.set(q, map);
  return map;
}

export function validateAgainstQuestionnaire(qr: QuestionnaireResponse, questionnaire: Questionnaire): Issue[] {
  const out: Issue[] = [];
  checkCanonical(qr, questionnaire, out);
  checkLevel(qr.item, questionnaire.item ?? [], 'QuestionnaireResponse', undefined, indexOf(questionnaire), out);
  return out;
}

function checkCanonical(qr: QuestionnaireResponse, q: Questionnaire, out: Issue[]): void {
  const path = 'QuestionnaireResponse.questionnaire';
  if (typeof qr.questionnaire !== 'string') {
    out.push(issue('required', `questionnaire must reference ${q.url ?? 'the Questionnaire'}`, path));
    return;
  }
  const [url, version] = qr.questionnaire.split('|');
  if (url !== q.url)
    out.push(issue('value', `questionnaire is ${qr.questionnaire}, expected ${q.url ?? '(no url)'}`, path));
  else if (version !== undefined && version !== q.version) {
    out.push(
      issue(
        'value',
        `questionnaire version ${version} does not match the Questionnaire's version ${q.version ?? '(none)'}`,
        path,
      ),
    );
  }
}

const where = (linkId: string | undefined): string => (linkId === undefined ? 'the top level' : `'${linkId}'`);

function checkLevel(
  items: unknown,
  defs: readonly QuestionnaireItem[],
  containerPath: string,
  parentLinkId: string | undefined,
  index: Map<string, ItemInfo>,
  out: Issue[],
): void {
  const list = (Array.isArray(items) ? items : []) as QuestionnaireResponseItem[];
  const here = new Map(defs.map((d) => [d.linkId, d] as const));
  const occurrences = new Map<string, number[]>();
  list.forEach((it, i) => {
    const linkId = it?.linkId;
    if (here.has(linkId)) {
      occurrences.set(linkId, [...(occurrences.get(linkId) ?? []), i]);
      return;
    }
    const elsewhere = index.get(linkId);
    const path = `${containerPath}.item[${i}].linkId`;
    if (elsewhere)
      out.push(
        issue(
          'structure',
          `Item '${linkId}' belongs under ${where(elsewhere.parent)}, not ${where(parentLinkId)}`,
          path,
        ),
      );
    else out.push(issue('not-found', `Unknown linkId '${String(linkId)}'`, path));
  });
  for (const def of defs) {
    const occ = occurrences.get(def.linkId) ?? [];
    const info = index.get(def.linkId) ?? { def, parent: parentLinkId, constraints: constraintsOf(def) };
    const itemPath = (n: number): string => `${containerPath}.item[${n}]`;
    if (occ.length === 0) {
      if (def.required) out.push(issue('required', `Required item '${def.linkId}' is missing`, containerPath));
      continue;
    }
    if (def.type === 'group' || def.type === 'display') {
      checkCount(occ.length, def, info, (n) => itemPath(occ[n] ?? 0), 'repetition', out);
      for (const n of occ) {
        const it = list[n] as QuestionnaireResponseItem;
        if (it.answer !== undefined)
          out.push(
            issue('structure', `${def.type} item '${def.linkId}' must not have answers`, `${itemPath(n)}.answer`),
          );
        checkLevel(it.item, def.item ?? [], itemPath(n), def.linkId, index, out);
      }
      continue;
    }
    // A question: all its answers belong in one item's answer array, even when it repeats.
    if (occ.length > 1) {
      out.push(
        issue(
          'structure',
          `Question '${def.linkId}' appears ${occ.length} times; its answers belong in one item`,
          itemPath(occ[1] ?? 0),
        ),
      );
    }
    let answered = 0;
    for (const n of occ) {
      const it = list[n] as QuestionnaireResponseItem;
      const answers = (Array.isArray(it.answer) ? it.answer : []) as QuestionnaireResponseItemAnswer[];
      answered += answers.length;
      if (it.item !== undefined)
        out.push(
          issue('structure', `Items nested in question '${def.linkId}' belong under its answer`, `${itemPath(n)}.item`),
        );
      checkCount(answers.length, def, info, (k) => `${itemPath(n)}.answer[${k}]`, 'answer', out);
      answers.forEach((a, k) => {
        const answerPath = `${itemPath(n)}.answer[${k}]`;
        checkAnswer(a, info, answerPath, out);
        if (def.item?.length) checkLevel(a.item, def.item, answerPath, def.linkId, index, out);
        else if (a.item !== undefined)
          out.push(issue('structure', `Question '${def.linkId}' has no nested items`, `${answerPath}.item`));
      });
    }
    if (def.required && answered === 0)
      out.push(issue('required', `Required item '${def.linkId}' has no answer`, itemPath(occ[0] ?? 0)));
  }
}

/** Not `repeats` → at most one; questionnaire-maxOccurs → at most that many. Reported at the first one too many. */
function checkCount(
  count: number,
  def: QuestionnaireItem,
  info: ItemInfo,
  pathOf: (n: number) => string,
  what: string,
  out: Issue[],
): void {
  const limit = def.repeats ? (info.constraints.maxOccurs ?? Infinity) : 1;
  if (count > limit) {
    const why = def.repeats ? `maxOccurs is ${limit}` : 'it does not repeat';
    out.push(issue('structure', `Item '${def.linkId}' has ${count} ${what}s but ${why}`, pathOf(limit)));
  }
}

/** One value, of the value[x] the item type takes, checked as the item type says (item-types.ts). */
function checkAnswer(a: QuestionnaireResponseItemAnswer, info: ItemInfo, path: string, out: Issue[]): void {
  const def = info.def;
  const keys = Object.keys(a).filter((k) => k.startsWith('value') && /^[A-Z]/.test(k.slice(5)));
  const key = keys[0];
  if (key === undefined) {
    out.push(issue('required', `Answer to '${def.linkId}' has no value`, path));
    return;
  }
  if (keys.length > 1) {
    out.push(
      issue('structure', `An answer has exactly one value, found ${keys.join(', ')}`, `${path}.${keys[1] ?? ''}`),
    );
    return;
  }
  const vpath = `${path}.${key}`;
  const type = itemTypeOf(def);
  const expected: readonly string[] = type?.valueKeys ?? [];
  if (!type || !expected.includes(key)) {
    const want = expected.length ? expected.join(' or ') : 'no answer';
    out.push(issue('value', `Item '${def.linkId}' is of type ${def.type}: expected ${want}, found ${key}`, vpath));
    return;
  }
  const at = (part?: string): string => (part === undefined ? vpath : `${vpath}.${part}`);
  type.check(key as AnswerKey, (a as Record<string, unknown>)[key], info.constraints, at, out);
}
