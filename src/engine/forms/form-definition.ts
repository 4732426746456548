// A care form as data: its Questionnaire, its mapping file and the code maps it uses (docs/MAPPING-FORMAT.md).
import type { Coding, Questionnaire, QuestionnaireItem } from 'fhir/r4.js';
import type { Json, JsonObject } from '../../base/json-paths.js';
import type { PartyKind } from '../../base/party.js';

export interface SharingRule {
  /** ★ the party kind that writes the form */
  author: PartyKind;
  /** ○ party kinds that hold it; `match` names a key that must equal the caller's organisation code */
  holders: Array<{ party: PartyKind; match?: FormKeyName }>;
}

export type FormKeyName = 'insurerNumber' | 'insuredNumber' | 'documentId' | 'date' | 'issuerCode';

export interface FormMapping {
  form: string;
  title: string;
  questionnaire: string;
  documentType: Coding;
  paths: Record<string, string>;
  keys: Partial<Record<FormKeyName, string>>;
  resources: Record<string, JsonObject>;
  questionnaireResponse?: JsonObject;
  document: { subject: string; authors: string[]; custodian?: string };
  sharing: SharingRule;
}

/**
 * A template many forms share, with named parameters (mappings/snippets/<name>.json, docs/MAPPING-FORMAT.md):
 * a mapping uses it as {"$snippet": name, "with": {…}} and the registry puts the template in its place at load time.
 */
export interface MappingSnippet {
  name: string;
  description: string;
  /** parameter → what a use passes for it (a payload path, or a template), in words */
  parameters: Record<string, string>;
  /** the parameters every use must pass; a left-out optional one acts as a payload value that is never present */
  required: string[];
  template: Json;
}

export interface FormDefinition {
  name: string;
  mapping: FormMapping;
  questionnaire: Questionnaire;
  /** Questionnaire url|version, as QuestionnaireResponse.questionnaire carries it. */
  questionnaireCanonical: string;
  items: Map<string, QuestionnaireItem>;
  codeMaps: Map<string, Record<string, string | number>>;
  /** JSON Schema of the care-form payload (profiles/schemas/<form>.schema.json). */
  payloadSchema: JsonObject;
}

export function indexItems(
  items: readonly QuestionnaireItem[] | undefined,
  into = new Map<string, QuestionnaireItem>(),
): Map<string, QuestionnaireItem> {
  for (const it of items ?? []) {
    into.set(it.linkId, it);
    indexItems(it.item, into);
  }
  return into;
}

export const extensionValue = <T = unknown>(item: QuestionnaireItem, url: string): T | undefined => {
  const ext = item.extension?.find((e) => e.url === url);
  if (!ext) return undefined;
  const key = Object.keys(ext).find((k) => k.startsWith('value'));
  return key ? (ext as unknown as Record<string, T>)[key] : undefined;
};

export const EXT = {
  regex: 'http://hl7.org/fhir/StructureDefinition/regex',
  unit: 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit',
  minValue: 'http://hl7.org/fhir/StructureDefinition/minValue',
  maxValue: 'http://hl7.org/fhir/StructureDefinition/maxValue',
  maxOccurs: 'http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs',
  originalText: 'http://kaigo-gateway.jp/fhir/StructureDefinition/original-text',
  checkDigit: 'http://kaigo-gateway.jp/fhir/StructureDefinition/check-digit',
} as const;
