// One date grammar everywhere (base/fhir-dates.ts): a care-form payload is refused at the field the client sent,
// by the first check it meets, in the words the QuestionnaireResponse validator would use; search values are read
// by the same grammar, their offsets honoured.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentReference, Questionnaire, QuestionnaireResponse } from 'fhir/r4.js';
import { R4_REGEX } from '../src/base/fhir-dates.js';
import type { JsonObject } from '../src/base/json-paths.js';
import { OperationOutcomeError, type Issue } from '../src/base/outcome.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { indexItems, type FormDefinition, type FormMapping } from '../src/engine/forms/form-definition.js';
import { itemsToPayload, payloadToItems } from '../src/engine/forms/items.js';
import { payloadSchemaFor } from '../src/engine/forms/payload-schema.js';
import { validatePayload } from '../src/engine/forms/payload-validator.js';
import { loadFormRegistry, mappingProblems } from '../src/engine/forms/registry.js';
import { formToFhir } from '../src/engine/forms/translate.js';
import { indexResource, loadSearchParameters } from '../src/engine/search/search-parameters.js';
import { parseSearch } from '../src/engine/search/search-query.js';
import { allOf, anyOf, eq } from '../src/engine/storage/row-filter.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { validateAgainstQuestionnaire } from '../src/engine/validation/questionnaire-response-validator.js';

const NOW = '2026-11-23T10:00:00.000+09:00';
const PROFILES = join(PROJECT_ROOT, 'profiles');
const QUESTIONNAIRE = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'test/fixtures/validation/Questionnaire-test-form.json'), 'utf8'),
) as Questionnaire;

/** The validation fixture (it has a dateTime item, 0-7 記録日時, which no shipped form has) as a care form. */
function testForm(): FormDefinition {
  const mapping = {
    form: 'test-form',
    title: '検証テスト用フォーム',
    questionnaire: QUESTIONNAIRE.url!,
    paths: {
      '0-1': 'basic.recordDate',
      '0-2': 'basic.insuredNumber',
      '0-3': 'basic.present',
      '0-4': 'basic.height',
      '0-5': 'basic.consent',
      '0-6': 'basic.count',
      '0-7': 'basic.recordedAt',
      '0-8': 'basic.notes',
      '0-9': 'basic.weight',
      '1': 'diseases',
      '1-1': 'name',
      '1-2': 'status',
      '2-1': 'remarks',
    },
    keys: {},
    resources: { patient: { resourceType: 'Patient' } },
    document: { subject: 'patient', authors: [] },
  } as unknown as FormMapping;
  const def = {
    name: 'test-form',
    mapping,
    questionnaire: QUESTIONNAIRE,
    questionnaireCanonical: `${QUESTIONNAIRE.url}|${QUESTIONNAIRE.version}`,
    items: indexItems(QUESTIONNAIRE.item),
    codeMaps: new Map(),
  };
  return { ...def, payloadSchema: payloadSchemaFor(def) };
}

const payloadWith = (recordedAt: string): JsonObject => ({
  basic: { recordDate: '2024-04-01', insuredNumber: '0123456789', recordedAt },
  diseases: [{ name: '高血圧症' }],
});

/** What the QuestionnaireResponse validator says when item `linkId` of the fixture has this one answer. */
function qrIssues(linkId: string, answer: Record<string, unknown>): Issue[] {
  const answers: Record<string, Record<string, unknown>> = {
    '0-1': { valueDate: '2024-04-01' },
    '0-2': { valueString: '0123456789' },
    [linkId]: answer,
  };
  const qr: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    questionnaire: `${QUESTIONNAIRE.url}|${QUESTIONNAIRE.version}`,
    status: 'completed',
    item: [
      { linkId: '0', item: Object.entries(answers).map(([id, a]) => ({ linkId: id, answer: [a] })) },
      { linkId: '1', item: [{ linkId: '1-1', answer: [{ valueString: '高血圧症' }] }] },
    ],
  };
  return validateAgainstQuestionnaire(qr, QUESTIONNAIRE);
}

function refusal(fn: () => unknown): readonly Issue[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof OperationOutcomeError) return e.issues;
    throw e;
  }
  expect.fail('expected an OperationOutcomeError');
}

describe('one date grammar: payload, engine and QuestionnaireResponse validator', () => {
  const def = testForm();

  it('the fixture form is a well-formed mapping', () => {
    expect(mappingProblems(def)).to.deep.equal([]);
  });

  it("the payload schema's dateTime pattern is the R4 dateTime regex, whole-value", () => {
    const basic = (def.payloadSchema.properties as JsonObject).basic as JsonObject;
    const recordedAt = (basic.properties as JsonObject).recordedAt as JsonObject;
    expect(recordedAt.pattern).to.equal(`^${R4_REGEX.dateTime}$`);
  });

  it('2024-04-01T10:15+09:00 is refused by the payload check at the field, with the QR validator’s message', () => {
    const v = '2024-04-01T10:15+09:00';
    const fromQr = qrIssues('0-7', { valueDateTime: v });
    expect(fromQr.map((i) => i.expression)).to.deep.equal([
      'QuestionnaireResponse.item[0].item[2].answer[0].valueDateTime',
    ]);
    const expected = {
      severity: 'error',
      code: 'value',
      diagnostics: fromQr[0]!.diagnostics,
      expression: 'basic.recordedAt',
    };
    expect(expected.diagnostics).to.equal(
      `'${v}': not an R4 dateTime: a time needs seconds (10:15:00 if they are not known)`,
    );
    // The first check a client hits (the payload schema) says it…
    expect(validatePayload(def, payloadWith(v))).to.deep.equal([expected]);
    // …and so does the whole translation, once, at the path the client sent, nowhere else.
    expect(refusal(() => formToFhir(def, payloadWith(v), { now: NOW }))).to.deep.equal([expected]);
  });

  it('a date-time that passes the pattern but not the calendar is refused by the engine, at the field, in the same words', () => {
    const v = '2023-02-29T10:00:00+09:00';
    expect(validatePayload(def, payloadWith(v))).to.deep.equal([]); // a regex cannot know February
    const issues: Issue[] = [];
    payloadToItems({ def, issues }, def.questionnaire.item, payloadWith(v), '');
    const [fromQr] = qrIssues('0-7', { valueDateTime: v });
    expect(fromQr?.diagnostics).to.match(/no day 29 in 2023-02/);
    expect(issues).to.deep.equal([{ ...fromQr, expression: 'basic.recordedAt' }]);
  });

  it('a valid dateTime of any R4 precision passes the payload, becomes an answer the QR validator accepts, and comes back exactly', () => {
    for (const v of ['2024-04-01T10:15:00+09:00', '2024-04-01T01:15:00.123Z', '2024-04', '2024']) {
      const payload = payloadWith(v);
      expect(validatePayload(def, payload), v).to.deep.equal([]);
      const issues: Issue[] = [];
      const items = payloadToItems({ def, issues }, def.questionnaire.item, payload, '');
      expect(issues, v).to.deep.equal([]);
      const qr: QuestionnaireResponse = {
        resourceType: 'QuestionnaireResponse',
        questionnaire: def.questionnaireCanonical,
        status: 'completed',
        item: items,
      };
      expect(validateAgainstQuestionnaire(qr, QUESTIONNAIRE), v).to.deep.equal([]);
      const back: JsonObject = {};
      itemsToPayload({ def, issues }, def.questionnaire.item, qr.item, back, 'QuestionnaireResponse');
      expect(back, v).to.deep.equal(payload);
    }
  });

  describe('a shipped form (主治医意見書): date fields', () => {
    const form = loadFormRegistry().get('shujii-ikensho')!;
    const sample = (): any =>
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/samples/shujii-ikensho/full.json'), 'utf8'));
    const sameAsQr = (v: string): string => {
      const issues = qrIssues('0-1', { valueDate: v });
      expect(issues.map((i) => i.expression)).to.deep.equal([
        'QuestionnaireResponse.item[0].item[0].answer[0].valueDate',
      ]);
      return issues[0]!.diagnostics;
    };

    it('a date-time in a date field is refused by the schema at the field, with the QR validator’s message', () => {
      const p = sample();
      p.header.lastExaminationDate = '2024-04-01T10:00:00+09:00';
      const at = refusal(() => formToFhir(form, p, { now: NOW })).filter(
        (i) => i.expression === 'header.lastExaminationDate',
      );
      expect(at.map((i) => i.diagnostics)).to.deep.equal([sameAsQr('2024-04-01T10:00:00+09:00')]);
      expect(at[0]!.diagnostics).to.match(/a date has no time/);
    });

    it('a day that does not exist is refused at the field, with the QR validator’s message', () => {
      const p = sample();
      p.header.lastExaminationDate = '2023-02-29';
      const at = refusal(() => formToFhir(form, p, { now: NOW })).filter(
        (i) => i.expression === 'header.lastExaminationDate',
      );
      expect(at.map((i) => i.diagnostics)).to.deep.equal([sameAsQr('2023-02-29')]);
    });

    it('an era date that does not parse is refused by the schema in the engine’s words, not as a regex', () => {
      const p = sample();
      p.header.applicant.birthDate = '昭和15年3月1日生まれ';
      const at = refusal(() => formToFhir(form, p, { now: NOW })).filter(
        (i) => i.expression === 'header.applicant.birthDate',
      );
      expect(at.map((i) => i.diagnostics)).to.deep.equal([
        "'昭和15年3月1日生まれ': not an R4 date (YYYY, YYYY-MM or YYYY-MM-DD) nor a Japanese era date such as 昭和15年3月1日",
      ]);
    });

    it('era dates keep their text exactly, trailing space and 頃 included', () => {
      for (const v of ['昭和15年3月1日', '令和3年4月頃', '平成元年', '昭和 15 年 3 月', 'S15年3月1日 ']) {
        const p = sample();
        p.header.applicant.birthDate = v;
        const doc = formToFhir(form, p, { now: NOW });
        const answers = JSON.stringify(doc.questionnaireResponse);
        expect(answers, v).to.include(JSON.stringify(v));
      }
    });
  });
});

describe('one date grammar: search', () => {
  const reg = loadSearchParameters(PROFILES);
  const dateClause = (query: Record<string, string>, type = 'DocumentReference') =>
    parseSearch(type, query, reg).clauses[0];

  it('honours the offset of a search value (the gateway runs in Asia/Tokyo)', () => {
    expect(new Date('2024-04-01T00:00:00Z').getTimezoneOffset()).to.equal(-540); // TZ=Asia/Tokyo, as npm test sets
    expect(dateClause({ date: '2024-04-01T01:15:00Z' })).to.deep.equal({
      kind: 'date',
      param: 'date',
      values: [{ prefix: 'eq', low: '2024-04-01T10:15:00', high: '2024-04-01T10:15:00' }],
      // DocumentReference.date is an instant: one index row per document, spanning at most one second, and it is
      // when the gateway indexed the document, so never after its meta.lastUpdated
      maxSpanSeconds: 0,
      singleValued: true,
      notAfterLastUpdated: true,
    });
    // meta.lastUpdated is compared as the instant it is (epoch ms, whole seconds, both ends included)
    expect(dateClause({ _lastUpdated: 'gt2024-04-01T10:15:00-05:00' })).to.deep.equal({
      kind: 'lastUpdated',
      values: [
        {
          prefix: 'gt',
          low: Date.parse('2024-04-02T00:15:00.000+09:00'),
          high: Date.parse('2024-04-02T00:15:00.999+09:00'),
        },
      ],
    });
  });

  it('keeps what the search page allows: any precision, minutes without seconds, no offset (local time)', () => {
    expect(dateClause({ date: 'ge2024-04' })).to.deep.include({
      values: [{ prefix: 'ge', low: '2024-04-01T00:00:00', high: '2024-04-30T23:59:59' }],
    });
    expect(dateClause({ date: '2024-04-01T10:15' })).to.deep.include({
      values: [{ prefix: 'eq', low: '2024-04-01T10:15:00', high: '2024-04-01T10:15:59' }],
    });
  });

  it('refuses a day that does not exist and a time without minutes, naming the parameter', () => {
    for (const [value, why] of [
      ['ge2023-02-29', /no day 29 in 2023-02/],
      ['2024-04-01T10', /needs minutes/],
      ['2024-13', /no month 13/],
      ['yesterday', /expected YYYY/],
    ] as const) {
      const issues = refusal(() => parseSearch('DocumentReference', { date: value }, reg));
      expect(
        issues.map((i) => [i.code, i.expression]),
        value,
      ).to.deep.equal([['invalid', 'date']]);
      expect(issues[0]!.diagnostics, value).to.match(why).and.include(`date=${value}`);
    }
  });

  it('finds a stored document by an instant written in another offset, and by its local date', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaigo-dates-'));
    const store = new SqliteStore(join(dir, 'store.sqlite'));
    try {
      const author = 'medical-institution:1311234567';
      const doc = {
        resourceType: 'DocumentReference',
        id: 'd1',
        status: 'current',
        date: '2024-04-01T00:15:00+09:00', // still 31 March in UTC
        content: [{ attachment: { url: 'Bundle/b1' } }],
      } as DocumentReference & { id: string };
      await store.transaction((tx) => tx.put({ resource: doc, access: { author }, index: indexResource(reg, doc) }));
      const total = async (date: string): Promise<number | undefined> =>
        (await store.search(parseSearch('DocumentReference', { date }, reg), anyOf(allOf(eq('author', author))))).total;
      expect(await total('2024-03-31T15:15:00Z')).to.equal(1);
      expect(await total('2024-03-31T10:15:00-05:00')).to.equal(1);
      expect(await total('2024-04-01T00:15:00Z')).to.equal(0);
      expect(await total('2024-04-01')).to.equal(1);
      expect(await total('2024-03-31')).to.equal(0);
      expect(await total('lt2024-03-31T15:15:00Z')).to.equal(0);
      expect(await total('ge2024-03-31T15:15:00Z')).to.equal(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
