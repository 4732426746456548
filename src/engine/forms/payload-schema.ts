// The care-form payload's JSON Schema, derived from the Questionnaire and the mapping's paths, so the schema
// vendors code against can never drift from what the engine accepts. Written to profiles/schemas/ by
// `npm run profiles:build`; a test fails when the checked-in file is stale.
import type { QuestionnaireItem } from 'fhir/r4.js';
import { EXT, extensionValue, type FormDefinition } from './form-definition.js';
import { ITEM_TYPES, itemTypeOf } from './item-types.js';
import type { JsonObject } from '../../base/json-paths.js';

type Schema = JsonObject;

function valueSchema(item: QuestionnaireItem): Schema {
  const s: Schema = { title: item.text ?? item.linkId, description: `linkId ${item.linkId}` };
  const min = extensionValue<number>(item, EXT.minValue);
  const max = extensionValue<number>(item, EXT.maxValue);
  const codec = itemTypeOf(item)?.payload;
  // A type the engine does not carry accepts no value, so the schema cannot promise what the engine refuses.
  Object.assign(s, codec ? codec.schema(item) : { not: {} });
  if (min !== undefined) s.minimum = min;
  if (max !== undefined) s.maximum = max;
  if (!item.repeats) return s;
  const maxOccurs = extensionValue<number>(item, EXT.maxOccurs);
  const { title, description, ...itemSchema } = s;
  return {
    title: title!,
    description: description!,
    type: 'array',
    items: itemSchema,
    minItems: 1,
    uniqueItems: true,
    ...(maxOccurs ? { maxItems: maxOccurs } : {}),
  };
}

const objectSchema = (): Schema => ({ type: 'object', additionalProperties: false, properties: {} });

function place(root: Schema, path: string, leaf: Schema, required: boolean): void {
  const keys = path.split('.');
  let cur = root;
  for (const key of keys.slice(0, -1)) {
    const props = cur.properties as JsonObject;
    props[key] ??= objectSchema();
    if (required) addRequired(cur, key);
    cur = props[key] as Schema;
  }
  (cur.properties as JsonObject)[keys[keys.length - 1]!] = leaf;
  if (required) addRequired(cur, keys[keys.length - 1]!);
}

function addRequired(s: Schema, key: string): void {
  const req = (s.required as string[] | undefined) ?? [];
  if (!req.includes(key)) req.push(key);
  s.required = req;
}

function addItems(def: FormDefinition, scope: Schema, items: readonly QuestionnaireItem[] | undefined): void {
  for (const it of items ?? []) {
    if (it.type === 'group') {
      if (it.repeats) {
        const el = objectSchema();
        addItems(def, el, it.item);
        const maxOccurs = extensionValue<number>(it, EXT.maxOccurs);
        place(
          scope,
          def.mapping.paths[it.linkId]!,
          {
            title: it.text ?? it.linkId,
            description: `linkId ${it.linkId}`,
            type: 'array',
            items: el,
            minItems: 1,
            ...(maxOccurs ? { maxItems: maxOccurs } : {}),
          },
          it.required === true,
        );
      } else addItems(def, scope, it.item);
      continue;
    }
    place(scope, def.mapping.paths[it.linkId]!, valueSchema(it), it.required === true);
  }
}

export function payloadSchemaFor(def: Omit<FormDefinition, 'payloadSchema'>): Schema {
  const root: Schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `http://kaigo-gateway.jp/fhir/schemas/${def.name}.schema.json`,
    title: `${def.mapping.title} (${def.name}) care-form payload`,
    description: `Generated from ${def.questionnaireCanonical} and mappings/${def.name}.mapping.json by npm run profiles:build. Do not edit.`,
    ...objectSchema(),
  };
  addItems(def as FormDefinition, root, def.questionnaire.item);
  return root;
}

/** Schema patterns of the item types (dates), each with the reason a value fails it: the engine's own reason. */
const GRAMMARS = new Map(
  Object.values(ITEM_TYPES).flatMap((t) =>
    t.payload?.grammar ? [[t.payload.grammar.pattern, t.payload.grammar.reason]] : [],
  ),
);

/**
 * Why `value` fails a `pattern` of these schemas, when the pattern is an item type's grammar (a date): the same
 * text the engine and the QuestionnaireResponse validator give, rather than the regex. Undefined otherwise.
 */
export function patternMismatchReason(pattern: string, value: unknown): string | undefined {
  const reason = GRAMMARS.get(pattern);
  if (!reason || typeof value !== 'string') return undefined;
  const why = reason(value);
  return why === undefined ? undefined : `'${value}': ${why}`;
}
