// One payload value ⇄ one QuestionnaireResponse answer, by the Questionnaire item's type (item-types.ts).
// Every conversion is exact in both directions: strings are never trimmed or normalised, an era date keeps its
// original text, a date-time keeps its offset. Anything that does not fit is an issue, never a pass-through.
import type { QuestionnaireItem, QuestionnaireResponseItemAnswer } from 'fhir/r4.js';
import type { Json } from '../../base/json-paths.js';
import { issue, type Issue } from '../../base/outcome.js';
import { itemTypeOf } from './item-types.js';

const notSupported = (item: QuestionnaireItem, path: string): Issue =>
  issue('not-supported', `item type ${item.type} of ${item.linkId} is not supported by the mapping engine`, path);

/** A single (non-array) payload value → one answer, or undefined with an issue pushed. */
export function toAnswer(
  item: QuestionnaireItem,
  v: Json,
  path: string,
  issues: Issue[],
): QuestionnaireResponseItemAnswer | undefined {
  const codec = itemTypeOf(item)?.payload;
  if (!codec) return void issues.push(notSupported(item, path));
  return codec.toAnswer(item, v, path, issues);
}

/** One answer → the payload value it came from. */
export function fromAnswer(
  item: QuestionnaireItem,
  a: QuestionnaireResponseItemAnswer,
  path: string,
  issues: Issue[],
): Json | undefined {
  const codec = itemTypeOf(item)?.payload;
  if (!codec) return void issues.push(notSupported(item, path));
  return codec.fromAnswer(item, a, path, issues);
}
