// The item tree of a QuestionnaireResponse ⇄ the care-form payload, walking the Questionnaire (which carries
// the structure) and the mapping's paths (which say where each answer sits in the payload).
import type { QuestionnaireItem, QuestionnaireResponseItem } from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';
import { fromAnswer, toAnswer } from './answers.js';
import type { FormDefinition } from './form-definition.js';
import { getPath, isObject, joinPath, setPath, type Json, type JsonObject } from '../../base/json-paths.js';

interface Ctx {
  def: FormDefinition;
  issues: Issue[];
}

/** Payload → QuestionnaireResponse.item[]. `scope` is the payload (or one element of a repeating group). */
export function payloadToItems(
  ctx: Ctx,
  items: readonly QuestionnaireItem[] | undefined,
  scope: unknown,
  scopePath: string,
): QuestionnaireResponseItem[] {
  const out: QuestionnaireResponseItem[] = [];
  for (const qi of items ?? []) {
    if (qi.type === 'group') {
      if (qi.repeats) {
        const rel = ctx.def.mapping.paths[qi.linkId]!;
        const arr = getPath(scope, rel);
        const at = joinPath(scopePath, rel);
        if (arr === undefined || arr === null) continue;
        if (!Array.isArray(arr)) {
          ctx.issues.push(issue('structure', `item ${qi.linkId} (${qi.text ?? ''}) expects a list`, at));
          continue;
        }
        arr.forEach((el, i) => {
          if (!isObject(el))
            return void ctx.issues.push(
              issue('structure', `each entry of ${qi.linkId} must be an object`, `${at}[${i}]`),
            );
          const children = payloadToItems(ctx, qi.item, el, `${at}[${i}]`);
          if (children.length > 0) out.push({ linkId: qi.linkId, text: qi.text, item: children });
        });
      } else {
        const children = payloadToItems(ctx, qi.item, scope, scopePath);
        if (children.length > 0) out.push({ linkId: qi.linkId, text: qi.text, item: children });
      }
      continue;
    }
    const rel = ctx.def.mapping.paths[qi.linkId]!;
    const at = joinPath(scopePath, rel);
    const v = getPath(scope, rel) as Json | undefined;
    if (v === undefined || v === null) continue;
    const values = qi.repeats ? v : [v];
    if (!Array.isArray(values)) {
      ctx.issues.push(
        issue('structure', `item ${qi.linkId} (${qi.text ?? ''}) allows several answers: give a list`, at),
      );
      continue;
    }
    const answers = values.flatMap((x, i) => toAnswer(qi, x, qi.repeats ? `${at}[${i}]` : at, ctx.issues) ?? []);
    if (answers.length > 0) out.push({ linkId: qi.linkId, text: qi.text, answer: answers });
  }
  return out;
}

/** QuestionnaireResponse.item[] → payload fields, written into `target`. */
export function itemsToPayload(
  ctx: Ctx,
  defs: readonly QuestionnaireItem[] | undefined,
  qrItems: readonly QuestionnaireResponseItem[] | undefined,
  target: JsonObject,
  fhirPath: string,
): void {
  (qrItems ?? []).forEach((qri, i) => {
    const here = `${fhirPath}.item[${i}]`;
    const qi = defs?.find((d) => d.linkId === qri.linkId);
    if (!qi)
      return void ctx.issues.push(
        issue(
          'structure',
          `linkId '${qri.linkId}' is not an item at this level of ${ctx.def.mapping.questionnaire}`,
          `${here}.linkId`,
        ),
      );
    if (qi.type === 'group') {
      if (qi.repeats) {
        const rel = ctx.def.mapping.paths[qi.linkId]!;
        const existing = getPath(target, rel);
        const arr: Json[] = Array.isArray(existing) ? existing : [];
        const el: JsonObject = {};
        itemsToPayload(ctx, qi.item, qri.item, el, here);
        arr.push(el);
        if (!Array.isArray(existing)) setPath(target, rel, arr);
      } else {
        itemsToPayload(ctx, qi.item, qri.item, target, here);
      }
      return;
    }
    const rel = ctx.def.mapping.paths[qi.linkId]!;
    const values = (qri.answer ?? [])
      .map((a, j) => fromAnswer(qi, a, `${here}.answer[${j}]`, ctx.issues))
      .filter((x): x is Json => x !== undefined);
    if (values.length === 0) return;
    setPath(target, rel, qi.repeats ? values : values[0]!);
  });
}
