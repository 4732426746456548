import { expect } from 'chai';
import { JP_CLINS_EXAMPLES_DIR, JP_CORE_DIR } from './support/corpus.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  Bundle,
  Composition,
  DocumentReference,
  FhirResource,
  Patient,
  Practitioner,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  StructureDefinition,
} from 'fhir/r4.js';
import type { Issue } from '../src/base/outcome.js';
import { loadBaseDefinitions, validateBase } from '../src/engine/validation/base-validator.js';
import { createFhirValidator, type FhirValidator } from '../src/engine/validation/fhir-validator.js';
import {
  createProfileValidator,
  loadProfilesDir,
  type ProfileValidator,
} from '../src/engine/validation/profile-validator.js';
import { validateAgainstQuestionnaire } from '../src/engine/validation/questionnaire-response-validator.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROFILES = join(ROOT, 'profiles');
const FIXTURES = join(ROOT, 'test/fixtures/validation');
const JP_CORE = JP_CORE_DIR;
const JP_CLINS = JP_CLINS_EXAMPLES_DIR;

const B = 'http://kaigo-gateway.jp/fhir';
const QURL = `${B}/Questionnaire/test-form`;
const CS = `${B}/CodeSystem/test-answers`;
const UCUM = 'http://unitsofmeasure.org';
const QR_PROFILE = `${B}/StructureDefinition/kaigo-questionnaireresponse`;
const DOCREF_PROFILE = `${B}/StructureDefinition/kaigo-documentreference`;
const BUNDLE_PROFILE = `${B}/StructureDefinition/kaigo-document-bundle`;

const readJson = <T = unknown>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const errors = (issues: readonly Issue[]): Issue[] =>
  issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
const errorPaths = (issues: readonly Issue[]): (string | undefined)[] => errors(issues).map((i) => i.expression);
const questionnaire = (): Questionnaire => readJson<Questionnaire>(join(FIXTURES, 'Questionnaire-test-form.json'));

/** A QR that satisfies every rule of the fixture Questionnaire (indices are used by the failing cases below). */
function validQr(): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    meta: { profile: [QR_PROFILE] },
    questionnaire: `${QURL}|1.0.0`,
    status: 'completed',
    subject: { reference: 'Patient/p1' },
    author: { reference: 'Practitioner/d1' },
    authored: '2024-04-01T10:00:00+09:00',
    item: [
      {
        linkId: '0',
        item: [
          { linkId: '0-1', answer: [{ valueDate: '2024-04-01' }] },
          { linkId: '0-2', answer: [{ valueString: '0123456789' }] },
          { linkId: '0-3', answer: [{ valueCoding: { system: CS, code: '1', display: 'あり' } }] },
          { linkId: '0-4', answer: [{ valueQuantity: { value: 160.5, unit: 'cm', system: UCUM, code: 'cm' } }] },
          { linkId: '0-5', answer: [{ valueBoolean: true }] },
          { linkId: '0-6', answer: [{ valueInteger: 3 }] },
          { linkId: '0-7', answer: [{ valueDateTime: '2024-04-01T10:00:00+09:00' }] },
          { linkId: '0-8', answer: [{ valueString: '特になし' }] },
          { linkId: '0-9', answer: [{ valueDecimal: 52.5 }] },
        ],
      },
      {
        linkId: '1',
        item: [
          { linkId: '1-1', answer: [{ valueString: '高血圧症' }] },
          { linkId: '1-2', answer: [{ valueCoding: { system: CS, code: '2' } }] },
        ],
      },
      {
        linkId: '1',
        item: [
          { linkId: '1-1', answer: [{ valueString: '糖尿病' }] },
          {
            linkId: '1-2',
            answer: [{ valueCoding: { system: CS, code: '1' } }, { valueCoding: { system: CS, code: '3' } }],
          },
        ],
      },
      // A blank form box as printed: one full-width space (valid R4; U+3000 is not whitespace in R4).
      { linkId: '2', item: [{ linkId: '2-1', answer: [{ valueString: '　' }] }] },
    ],
  };
}

/** `item(qr, 0, 3)` = qr.item[0].item[3] */
function item(qr: QuestionnaireResponse, ...path: number[]): QuestionnaireResponseItem {
  let items = qr.item;
  let cur: QuestionnaireResponseItem | undefined;
  for (const i of path) {
    cur = items?.[i];
    if (!cur) throw new Error(`no item at ${path.join('.')}`);
    items = cur.item;
  }
  return cur as QuestionnaireResponseItem;
}

function validDocRef(): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    meta: { profile: [DOCREF_PROFILE] },
    identifier: [{ system: `${B}/document-id`, value: 'doc-1' }],
    status: 'current',
    type: { coding: [{ system: `${B}/CodeSystem/document-type`, code: 'shujii-ikensho', display: '主治医意見書' }] },
    subject: { identifier: { system: 'urn:oid:1.2.392.100495.20.3.51.1', value: '0123456789' } },
    date: '2024-04-01T10:00:00+09:00',
    content: [
      {
        attachment: {
          contentType: 'application/fhir+json',
          url: 'Bundle/b1',
          size: 1234,
          hash: '2jmj7l5rSw0yVb/vlWAYkK/YBwk=',
        },
      },
    ],
  };
}

function validDocumentBundle(): Bundle<FhirResource> {
  const u = (n: number): string => `urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e${n}`;
  const qr = validQr();
  qr.subject = { reference: u(3) };
  qr.author = { reference: u(4) };
  return {
    resourceType: 'Bundle',
    meta: { profile: [BUNDLE_PROFILE] },
    identifier: { system: 'urn:ietf:rfc:3986', value: u(0) },
    type: 'document',
    timestamp: '2024-04-01T10:00:00+09:00',
    entry: [
      {
        fullUrl: u(1),
        resource: {
          resourceType: 'Composition' as const,
          status: 'final',
          type: { coding: [{ system: `${B}/CodeSystem/document-type`, code: 'shujii-ikensho' }] },
          subject: { reference: u(3) },
          date: '2024-04-01T10:00:00+09:00',
          author: [{ reference: u(4) }],
          title: '主治医意見書',
          section: [{ entry: [{ reference: u(2) }] }],
        } satisfies Composition,
      },
      { fullUrl: u(2), resource: qr },
      {
        fullUrl: u(3),
        resource: {
          resourceType: 'Patient',
          name: [{ text: '介護 花子' }],
          gender: 'female',
          birthDate: '1940-03-01',
        } satisfies Patient,
      },
      {
        fullUrl: u(4),
        resource: { resourceType: 'Practitioner', name: [{ text: '医師 太郎' }] } satisfies Practitioner,
      },
    ],
  };
}

describe('validation', function () {
  this.timeout(30000);
  before(() => loadBaseDefinitions());

  describe('base R4 validation (the compiled R4 validator)', () => {
    const jpCore = readdirSync(JP_CORE).filter((f) => /^(Patient|Practitioner|Organization)-.*\.json$/.test(f));
    const clins = readdirSync(JP_CLINS).filter((f) => f.endsWith('.json'));

    it('finds the corpus', () => {
      expect(jpCore.length).to.be.greaterThanOrEqual(9);
      expect(clins.length).to.be.greaterThanOrEqual(60);
    });

    for (const f of jpCore) {
      it(`JP Core ${f} passes`, () => expect(errors(validateBase(readJson(join(JP_CORE, f))))).to.deep.equal([]));
    }
    for (const f of clins.filter((n) => !n.includes('ErrorExample'))) {
      it(`JP-CLINS ${f} passes`, () => expect(errors(validateBase(readJson(join(JP_CLINS, f))))).to.deep.equal([]));
    }

    it('JP-CLINS ErrorExamples: none is rejected by base R4 (their faults are JP-CLINS code rules, not structure)', () => {
      // Checked: the three files are structurally valid R4. Their intended errors (a wrong 一般処方コード, no YJ
      // code, no local lab code) need JP-CLINS profiles + terminology we do not interpret; the declared JP-CLINS
      // profile comes back as an `information` issue, so it is visibly unchecked rather than silently passed.
      const files = clins.filter((n) => n.includes('ErrorExample'));
      expect(files).to.have.length(3);
      const rejected = files.filter((f) => errors(validateBase(readJson(join(JP_CLINS, f)))).length > 0);
      expect(rejected).to.deep.equal([]);
      const info = createProfileValidator([]).validate(readJson(join(JP_CLINS, files[0] ?? '')));
      expect(info).to.have.length(1);
      expect(info[0]).to.include({ severity: 'information', expression: 'MedicationRequest.meta.profile[0]' });
    });

    it('reports every problem of one resource with its path (collect, then fail once)', () => {
      const issues = validateBase({
        resourceType: 'Patient',
        foo: 1,
        name: [{ given: ['花子', 3] }],
        birthDate: '2020-13-01',
      });
      expect(errorPaths(issues)).to.have.members(['Patient.foo', 'Patient.name[0].given[1]', 'Patient.birthDate']);
    });

    it('never throws for invalid input', () => {
      expect(errors(validateBase(null))).to.have.length(1);
      expect(errors(validateBase([]))).to.have.length(1);
      expect(errorPaths(validateBase({}))).to.deep.equal(['resourceType']);
      expect(errorPaths(validateBase({ resourceType: 'Project' }))).to.deep.equal(['Project.resourceType']);
    });

    it('names the concrete choice property instead of value[x]', () => {
      const qr = validQr();
      item(qr, 0, 1).answer = [{ valueString: '   ' }];
      expect(errorPaths(validateBase(qr))).to.deep.equal([
        'QuestionnaireResponse.item[0].item[1].answer[0].valueString',
      ]);
    });

    it('quirk: a full-width space is valid R4 string content (Medplum trim() would reject it)', () => {
      expect(validateBase(validQr())).to.deep.equal([]);
    });

    it('quirk: two value[x] on one element is an error with a path (Medplum: path-less warning)', () => {
      const qr = validQr();
      item(qr, 0, 4).answer = [{ valueBoolean: true, valueString: 'x' }];
      const issues = validateBase(qr);
      expect(errorPaths(issues)).to.deep.equal(['QuestionnaireResponse.item[0].item[4].answer[0].valueString']);
    });

    it('quirk: an empty choice value is reported as empty, not as an unknown property', () => {
      const qr = validQr();
      item(qr, 0, 1).answer = [{ valueString: '' }];
      const [only] = validateBase(qr);
      expect(only).to.include({
        expression: 'QuestionnaireResponse.item[0].item[1].answer[0].valueString',
        diagnostics: 'Invalid empty value',
      });
    });

    it('quirk: urn:uuid references in a document Bundle raise no bogus "Invalid reference" warning', () => {
      expect(validateBase(validDocumentBundle())).to.deep.equal([]);
    });

    it('a nested resource of unknown type does not hide the other problems', () => {
      const b = validDocumentBundle();
      b.entry?.push({ resource: { resourceType: 'Foo' } as never });
      (b.entry?.[2]?.resource as unknown as Record<string, unknown>).foo = 1;
      expect(errorPaths(validateBase(b))).to.have.members([
        'Bundle.entry[4].resource.resourceType',
        'Bundle.entry[2].resource.foo',
      ]);
    });

    it('runs R4 invariants (bdl-11: a document starts with its Composition)', () => {
      const b = validDocumentBundle();
      b.entry?.reverse();
      expect(errors(validateBase(b)).map((i) => i.diagnostics)).to.satisfy((d: string[]) =>
        d.some((x) => x.includes('bdl-11')),
      );
    });
  });

  describe('profile validation (differential interpreter)', () => {
    let pv: ProfileValidator;
    before(async () => {
      pv = createProfileValidator(await loadProfilesDir(PROFILES));
    });

    it('loads our profiles; every required binding expands', () => {
      expect(pv.profiles).to.include.members([QR_PROFILE, DOCREF_PROFILE, BUNDLE_PROFILE]);
      expect(pv.loadIssues).to.deep.equal([]);
    });

    it('valid resources pass', () => {
      expect(pv.validate(validDocRef())).to.deep.equal([]);
      expect(pv.validate(validQr())).to.deep.equal([]);
      expect(pv.validate(validDocumentBundle())).to.deep.equal([]);
    });

    it('min: missing elements, also inside each repetition of the parent', () => {
      const d = validDocRef();
      delete d.identifier;
      d.content.push({ attachment: { contentType: 'application/fhir+json', url: 'Bundle/b2', size: 1 } });
      expect(errorPaths(pv.validate(d))).to.deep.equal([
        'DocumentReference.identifier',
        'DocumentReference.content[1].attachment.hash',
      ]);
    });

    it('min on an array: a document Bundle needs 2 entries', () => {
      const b = validDocumentBundle();
      b.entry = b.entry?.slice(0, 1);
      expect(errorPaths(pv.validate(b))).to.deep.equal(['Bundle.entry']);
    });

    it('fixed: Bundle.type must be document', () => {
      const b = validDocumentBundle();
      b.type = 'collection';
      const [i] = pv.validate(b);
      expect(i).to.include({ code: 'value', expression: 'Bundle.type' });
    });

    it('required binding: code (explicit concepts), CodeableConcept (ValueSet including a whole CodeSystem)', () => {
      const d = validDocRef();
      d.status = 'withdrawn' as never; // not in the gateway's docref-status ValueSet
      d.type = { coding: [{ system: `${B}/CodeSystem/document-type`, code: 'unknown-form' }] };
      const issues = pv.validate(d);
      expect(errorPaths(issues)).to.deep.equal(['DocumentReference.status', 'DocumentReference.type']);
      expect(issues.every((i) => i.code === 'code-invalid')).to.equal(true);
      const qr = validQr();
      qr.status = 'in-progress';
      expect(errorPaths(pv.validate(qr))).to.deep.equal(['QuestionnaireResponse.status']);
    });

    it('applies an explicitly requested profile even without meta.profile', () => {
      const qr = validQr();
      delete qr.meta;
      delete qr.author;
      expect(pv.validate(qr)).to.deep.equal([]);
      expect(errorPaths(pv.validate(qr, { profile: QR_PROFILE }))).to.deep.equal(['QuestionnaireResponse.author']);
    });

    it('unknown meta.profile is information; unknown requested profile and wrong resource type are errors', () => {
      const p = {
        resourceType: 'Patient',
        meta: { profile: ['http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient'] },
      };
      const [info] = pv.validate(p);
      expect(info).to.include({ severity: 'information', expression: 'Patient.meta.profile[0]' });
      expect(errors(pv.validate(p, { profile: `${B}/StructureDefinition/nope` }))).to.have.length(1);
      expect(errorPaths(pv.validate(p, { profile: QR_PROFILE }))).to.deep.equal(['Patient.resourceType']);
    });

    it('reports all profile problems of one resource at once', () => {
      const qr = validQr();
      qr.status = 'stopped';
      delete qr.subject;
      delete qr.authored;
      delete qr.questionnaire;
      expect(errorPaths(pv.validate(qr))).to.have.members([
        'QuestionnaireResponse.questionnaire',
        'QuestionnaireResponse.status',
        'QuestionnaireResponse.subject',
        'QuestionnaireResponse.authored',
      ]);
    });

    describe('with ad-hoc profiles', () => {
      const sd = (elements: StructureDefinition['differential']): StructureDefinition => ({
        resourceType: 'StructureDefinition',
        url: `${B}/StructureDefinition/test-patient`,
        name: 'TestPatient',
        status: 'draft',
        kind: 'resource',
        abstract: false,
        type: 'Patient',
        baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
        derivation: 'constraint',
        ...(elements ? { differential: elements } : {}),
      });
      const url = `${B}/StructureDefinition/test-patient`;

      it('max: at most one name (reported at the first value too many)', () => {
        const v = createProfileValidator([sd({ element: [{ path: 'Patient.name', max: '1' }] })]);
        const p = { resourceType: 'Patient', name: [{ text: 'a' }, { text: 'b' }] };
        expect(errorPaths(v.validate(p, { profile: url }))).to.deep.equal(['Patient.name[1]']);
      });

      it('pattern: subset match, arrays matched element-wise', () => {
        const pattern = { coding: [{ system: 'urn:x', code: 'a' }] };
        const v = createProfileValidator([
          sd({ element: [{ path: 'Patient.maritalStatus', patternCodeableConcept: pattern }] }),
        ]);
        const ok = {
          resourceType: 'Patient',
          maritalStatus: {
            coding: [
              { system: 'urn:y', code: 'z' },
              { system: 'urn:x', code: 'a', display: 'A' },
            ],
            text: 't',
          },
        };
        const bad = { resourceType: 'Patient', maritalStatus: { coding: [{ system: 'urn:x', code: 'b' }] } };
        expect(v.validate(ok, { profile: url })).to.deep.equal([]);
        expect(errorPaths(v.validate(bad, { profile: url }))).to.deep.equal(['Patient.maritalStatus']);
      });

      it('fixed is exact (an extra property fails)', () => {
        const v = createProfileValidator([sd({ element: [{ path: 'Patient.identifier.system', fixedUri: 'urn:x' }] })]);
        const p = { resourceType: 'Patient', identifier: [{ system: 'urn:x' }, { system: 'urn:y' }] };
        expect(errorPaths(v.validate(p, { profile: url }))).to.deep.equal(['Patient.identifier[1].system']);
      });

      it('choice elements [x] and slices (not interpreted)', () => {
        const v = createProfileValidator([
          sd({
            element: [
              { path: 'Patient.deceased[x]', min: 1 },
              { id: 'Patient.identifier:mine', path: 'Patient.identifier', sliceName: 'mine', min: 5 },
            ],
          }),
        ]);
        expect(v.validate({ resourceType: 'Patient', deceasedBoolean: false }, { profile: url })).to.deep.equal([]);
        expect(errorPaths(v.validate({ resourceType: 'Patient' }, { profile: url }))).to.deep.equal([
          'Patient.deceased[x]',
        ]);
      });

      it('ValueSet compose: explicit concepts, whole CodeSystem, nested concepts, exclude', () => {
        const cs = {
          resourceType: 'CodeSystem',
          url: 'urn:cs',
          status: 'draft',
          content: 'complete',
          concept: [{ code: 'a', concept: [{ code: 'a1' }] }, { code: 'b' }],
        };
        const vs = {
          resourceType: 'ValueSet',
          url: 'urn:vs',
          status: 'draft',
          compose: {
            include: [{ system: 'urn:cs' }, { system: 'urn:other', concept: [{ code: 'x' }] }],
            exclude: [{ system: 'urn:cs', concept: [{ code: 'b' }] }],
          },
        };
        const v = createProfileValidator([
          cs,
          vs,
          sd({ element: [{ path: 'Patient.maritalStatus', binding: { strength: 'required', valueSet: 'urn:vs' } }] }),
        ]);
        const ms = (system: string, code: string) => ({
          resourceType: 'Patient',
          maritalStatus: { coding: [{ system, code }] },
        });
        expect(v.validate(ms('urn:cs', 'a1'), { profile: url })).to.deep.equal([]);
        expect(v.validate(ms('urn:other', 'x'), { profile: url })).to.deep.equal([]);
        expect(errorPaths(v.validate(ms('urn:cs', 'b'), { profile: url }))).to.deep.equal(['Patient.maritalStatus']);
        expect(
          errorPaths(v.validate({ resourceType: 'Patient', maritalStatus: { text: '既婚' } }, { profile: url })),
        ).to.deep.equal(['Patient.maritalStatus']);
      });

      it('a binding that cannot be expanded is reported (load warning + per-value warning), never silently passed', () => {
        const v = createProfileValidator([
          sd({ element: [{ path: 'Patient.gender', binding: { strength: 'required', valueSet: 'urn:missing' } }] }),
        ]);
        expect(v.loadIssues).to.have.length(1);
        const [w] = v.validate({ resourceType: 'Patient', gender: 'male' }, { profile: url });
        expect(w).to.include({ severity: 'warning', expression: 'Patient.gender' });
      });

      it('duplicate canonical URLs are a configuration error', () => {
        expect(() => createProfileValidator([sd({ element: [] }), sd({ element: [] })])).to.throw(/Duplicate/);
      });
    });
  });

  describe('QuestionnaireResponse against its Questionnaire', () => {
    const q = questionnaire();
    const check = (qr: QuestionnaireResponse): Issue[] => validateAgainstQuestionnaire(qr, q);
    const only = (qr: QuestionnaireResponse): string | undefined => {
      const issues = check(qr);
      expect(issues, JSON.stringify(issues)).to.have.length(1);
      return issues[0]?.expression;
    };

    it('a complete, correct QR passes (every item type: string, text, boolean, integer, decimal, date, dateTime, choice, quantity)', () => {
      expect(check(validQr())).to.deep.equal([]);
    });

    it('questionnaire must reference the url, optionally |version', () => {
      const qr = validQr();
      qr.questionnaire = QURL;
      expect(check(qr)).to.deep.equal([]);
      qr.questionnaire = `${QURL}|2.0.0`;
      expect(only(qr)).to.equal('QuestionnaireResponse.questionnaire');
      qr.questionnaire = `${B}/Questionnaire/other`;
      expect(only(qr)).to.equal('QuestionnaireResponse.questionnaire');
      delete qr.questionnaire;
      expect(only(qr)).to.equal('QuestionnaireResponse.questionnaire');
    });

    it('unknown linkId', () => {
      const qr = validQr();
      item(qr, 0).item?.push({ linkId: '9-9', answer: [{ valueString: 'x' }] });
      expect(only(qr)).to.equal('QuestionnaireResponse.item[0].item[9].linkId');
    });

    it('item nested under the wrong parent', () => {
      const qr = validQr();
      item(qr, 0).item?.push({ linkId: '1-1', answer: [{ valueString: 'x' }] });
      const [i] = check(qr);
      expect(i).to.include({ code: 'structure', expression: 'QuestionnaireResponse.item[0].item[9].linkId' });
      expect(i?.diagnostics).to.include("belongs under '1'");
    });

    it('missing required items: top-level group, item in a group, item in each repetition', () => {
      const a = validQr();
      a.item = a.item?.slice(1);
      expect(only(a)).to.equal('QuestionnaireResponse');
      const b = validQr();
      item(b, 0).item?.shift();
      expect(only(b)).to.equal('QuestionnaireResponse.item[0]');
      const c = validQr();
      item(c, 2).item?.shift(); // second repetition of group '1' lacks required '1-1'
      expect(only(c)).to.equal('QuestionnaireResponse.item[2]');
      const d = validQr();
      item(d, 0, 0).answer = [];
      expect(only(d)).to.equal('QuestionnaireResponse.item[0].item[0]');
    });

    it('more than one answer when the question does not repeat', () => {
      const qr = validQr();
      item(qr, 0, 1).answer?.push({ valueString: '9876543210' });
      expect(only(qr)).to.equal('QuestionnaireResponse.item[0].item[1].answer[1]');
    });

    it('a question split over two items', () => {
      const qr = validQr();
      item(qr, 0).item?.push({ linkId: '0-5', answer: [{ valueBoolean: false }] });
      expect(only(qr)).to.equal('QuestionnaireResponse.item[0].item[9]');
    });

    it('more than one repetition of a non-repeating group', () => {
      const qr = validQr();
      qr.item?.push({ linkId: '2', item: [{ linkId: '2-1', answer: [{ valueString: 'x' }] }] });
      expect(only(qr)).to.equal('QuestionnaireResponse.item[4]');
    });

    it('questionnaire-maxOccurs on a repeating group and on a repeating question', () => {
      const a = validQr();
      a.item?.splice(3, 0, structuredClone(item(a, 1)));
      expect(only(a)).to.equal('QuestionnaireResponse.item[3]');
      const b = validQr();
      item(b, 2, 1).answer?.push({ valueCoding: { system: CS, code: '2' } });
      expect(only(b)).to.equal('QuestionnaireResponse.item[2].item[1].answer[2]');
    });

    it('answer value type must match the item type', () => {
      const qr = validQr();
      item(qr, 0, 0).answer = [{ valueString: '2024-04-01' }];
      item(qr, 0, 4).answer = [{ valueString: 'true' }];
      item(qr, 0, 5).answer = [{ valueDecimal: 3.5 }];
      item(qr, 0, 6).answer = [{ valueDate: '2024-04-01' }];
      item(qr, 0, 2).answer = [{ valueString: '1' }];
      item(qr, 0, 3).answer = [{ valueDecimal: 160 }];
      expect(errorPaths(check(qr))).to.deep.equal([
        'QuestionnaireResponse.item[0].item[0].answer[0].valueString',
        'QuestionnaireResponse.item[0].item[2].answer[0].valueString',
        'QuestionnaireResponse.item[0].item[3].answer[0].valueDecimal',
        'QuestionnaireResponse.item[0].item[4].answer[0].valueString',
        'QuestionnaireResponse.item[0].item[5].answer[0].valueDecimal',
        'QuestionnaireResponse.item[0].item[6].answer[0].valueDate',
      ]);
    });

    it('an answer has exactly one value', () => {
      const a = validQr();
      item(a, 0, 4).answer = [{}];
      expect(only(a)).to.equal('QuestionnaireResponse.item[0].item[4].answer[0]');
      const b = validQr();
      item(b, 0, 4).answer = [{ valueBoolean: true, valueString: 'x' }];
      expect(only(b)).to.equal('QuestionnaireResponse.item[0].item[4].answer[0].valueString');
    });

    it('dateTime needs an offset; date must be an R4 date', () => {
      const qr = validQr();
      item(qr, 0, 6).answer = [{ valueDateTime: '2024-04-01T10:00:00' }];
      item(qr, 0, 0).answer = [{ valueDate: '2024/04/01' }];
      expect(errorPaths(check(qr))).to.deep.equal([
        'QuestionnaireResponse.item[0].item[0].answer[0].valueDate',
        'QuestionnaireResponse.item[0].item[6].answer[0].valueDateTime',
      ]);
    });

    it('dates must exist and follow the R4 grammar, with the reason given; time answers take R4 times', () => {
      const qr = validQr();
      item(qr, 0, 0).answer = [{ valueDate: '2023-02-29' }];
      item(qr, 0, 6).answer = [{ valueDateTime: '2024-04-01T10:15+09:00' }];
      const issues = check(qr);
      expect(errorPaths(issues)).to.deep.equal([
        'QuestionnaireResponse.item[0].item[0].answer[0].valueDate',
        'QuestionnaireResponse.item[0].item[6].answer[0].valueDateTime',
      ]);
      expect(issues.map((i) => i.diagnostics)).to.deep.equal([
        "'2023-02-29': not an R4 date: there is no day 29 in 2023-02, which has 28 days",
        "'2024-04-01T10:15+09:00': not an R4 dateTime: a time needs seconds (10:15:00 if they are not known)",
      ]);
      item(qr, 0, 0).answer = [{ valueDate: '2024-02-29' }];
      item(qr, 0, 6).answer = [{ valueDateTime: '2024' }]; // any precision of a dateTime is a dateTime
      expect(check(qr)).to.deep.equal([]);

      const withTime = questionnaire();
      withTime.item?.[0]?.item?.push({ linkId: '0-10', text: '時刻', type: 'time' });
      const timed = validQr();
      item(timed, 0).item?.push({ linkId: '0-10', answer: [{ valueTime: '10:15:00' }] });
      expect(validateAgainstQuestionnaire(timed, withTime)).to.deep.equal([]);
      item(timed, 0, 9).answer = [{ valueTime: '24:00:00' }];
      const [bad, ...rest] = validateAgainstQuestionnaire(timed, withTime);
      expect(rest).to.deep.equal([]);
      expect(bad).to.include({
        code: 'value',
        expression: 'QuestionnaireResponse.item[0].item[9].answer[0].valueTime',
        diagnostics: "'24:00:00': not an R4 time: 24:00 is not a time of day (hours run 00–23)",
      });
    });

    it('quantity must carry the unit of questionnaire-unit', () => {
      const qr = validQr();
      item(qr, 0, 3).answer = [{ valueQuantity: { value: 1605, unit: 'mm', system: UCUM, code: 'mm' } }];
      expect(only(qr)).to.equal('QuestionnaireResponse.item[0].item[3].answer[0].valueQuantity');
    });

    it('choice coding must be one of the answer options (system + code; display if given)', () => {
      const a = validQr();
      item(a, 0, 2).answer = [{ valueCoding: { system: CS, code: '9' } }];
      expect(only(a)).to.equal('QuestionnaireResponse.item[0].item[2].answer[0].valueCoding');
      const b = validQr();
      item(b, 0, 2).answer = [{ valueCoding: { system: 'urn:other', code: '1' } }];
      expect(only(b)).to.equal('QuestionnaireResponse.item[0].item[2].answer[0].valueCoding');
      const c = validQr();
      item(c, 0, 2).answer = [{ valueCoding: { system: CS, code: '1', display: 'なし' } }];
      expect(only(c)).to.equal('QuestionnaireResponse.item[0].item[2].answer[0].valueCoding.display');
      const d = validQr();
      item(d, 0, 2).answer = [{ valueCoding: { system: CS, code: '1' } }];
      expect(check(d)).to.deep.equal([]);
    });

    it('regex extension (whole value must match)', () => {
      const qr = validQr();
      item(qr, 0, 1).answer = [{ valueString: '01234567890' }];
      const issues = check(qr);
      // 11 digits: fails the regex and maxLength 10, both reported on the same value
      expect(errorPaths(issues)).to.deep.equal([
        'QuestionnaireResponse.item[0].item[1].answer[0].valueString',
        'QuestionnaireResponse.item[0].item[1].answer[0].valueString',
      ]);
      item(qr, 0, 1).answer = [{ valueString: '012345678a' }];
      expect(only(qr)).to.equal('QuestionnaireResponse.item[0].item[1].answer[0].valueString');
    });

    it('maxLength counts characters (a surrogate pair is one character)', () => {
      const qr = validQr();
      item(qr, 0, 7).answer = [{ valueString: '𠮷'.repeat(20) }];
      expect(check(qr)).to.deep.equal([]);
      item(qr, 0, 7).answer = [{ valueString: 'あ'.repeat(21) }];
      expect(only(qr)).to.equal('QuestionnaireResponse.item[0].item[7].answer[0].valueString');
    });

    it('minValue / maxValue on integer and quantity', () => {
      const qr = validQr();
      item(qr, 0, 5).answer = [{ valueInteger: 11 }];
      item(qr, 0, 3).answer = [{ valueQuantity: { value: -1, unit: 'cm', system: UCUM, code: 'cm' } }];
      expect(errorPaths(check(qr))).to.deep.equal([
        'QuestionnaireResponse.item[0].item[3].answer[0].valueQuantity.value',
        'QuestionnaireResponse.item[0].item[5].answer[0].valueInteger',
      ]);
      item(qr, 0, 5).answer = [{ valueInteger: 10 }];
      item(qr, 0, 3).answer = [{ valueQuantity: { value: 0, unit: 'cm', system: UCUM, code: 'cm' } }];
      expect(check(qr)).to.deep.equal([]);
    });

    it('group items must not have answers; question children go under the answer', () => {
      const a = validQr();
      item(a, 3).answer = [{ valueString: 'x' }];
      expect(only(a)).to.equal('QuestionnaireResponse.item[3].answer');
      const b = validQr();
      item(b, 0, 4).item = [{ linkId: '0-5-1' }];
      const issues = check(b);
      expect(errorPaths(issues)).to.include('QuestionnaireResponse.item[0].item[4].item');
    });

    it('collects every problem of one QR, then the caller fails once', () => {
      const qr = validQr();
      qr.questionnaire = `${QURL}|9`;
      item(qr, 0, 2).answer = [{ valueCoding: { system: CS, code: '9' } }];
      item(qr, 0, 5).answer = [{ valueInteger: 99 }];
      item(qr, 0).item?.push({ linkId: 'zz' });
      item(qr, 3).answer = [{ valueString: 'x' }];
      qr.item?.push({ linkId: '2' });
      expect(errorPaths(check(qr))).to.have.members([
        'QuestionnaireResponse.questionnaire',
        'QuestionnaireResponse.item[0].item[2].answer[0].valueCoding',
        'QuestionnaireResponse.item[0].item[5].answer[0].valueInteger',
        'QuestionnaireResponse.item[0].item[9].linkId',
        'QuestionnaireResponse.item[3].answer',
        'QuestionnaireResponse.item[4]',
      ]);
    });
  });

  describe('createFhirValidator facade', () => {
    let v: FhirValidator;
    before(async () => {
      v = await createFhirValidator({ profilesDir: [PROFILES, FIXTURES] });
    });

    it('loads the real profiles directory without problems', () => {
      expect(v.loadIssues).to.deep.equal([]);
    });

    it('a valid QR passes base + profile + Questionnaire', () => {
      expect(v.validateQuestionnaireResponse(validQr())).to.deep.equal([]);
    });

    it('unknown Questionnaire is an error', () => {
      const qr = validQr();
      qr.questionnaire = `${B}/Questionnaire/nope`;
      const issues = v.validateQuestionnaireResponse(qr);
      expect(errorPaths(issues)).to.deep.equal(['QuestionnaireResponse.questionnaire']);
      expect(issues[0]?.code).to.equal('not-found');
    });

    it('reports base, profile and Questionnaire problems together', () => {
      const qr = validQr() as QuestionnaireResponse & { foo?: number };
      qr.foo = 1;
      qr.status = 'in-progress';
      item(qr, 0, 2).answer = [{ valueCoding: { system: CS, code: '9' } }];
      expect(errorPaths(v.validateQuestionnaireResponse(qr))).to.have.members([
        'QuestionnaireResponse.foo',
        'QuestionnaireResponse.status',
        'QuestionnaireResponse.item[0].item[2].answer[0].valueCoding',
      ]);
    });

    it('a document Bundle: base + profiles of the Bundle and of each entry, with entry paths', () => {
      const b = validDocumentBundle();
      expect(v.validate(b)).to.deep.equal([]);
      const doc = validDocRef();
      delete doc.content[0]?.attachment.hash;
      b.entry?.push({ fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6f5', resource: doc });
      (b.entry?.[1]?.resource as QuestionnaireResponse).status = 'in-progress';
      (b.entry?.[2]?.resource as unknown as Record<string, unknown>).foo = 1;
      delete b.timestamp;
      expect(errorPaths(v.validate(b))).to.have.members([
        'Bundle', // bdl-10: a document must have a date (R4 invariant, from Medplum)
        'Bundle.timestamp',
        'Bundle.entry[1].resource.status',
        'Bundle.entry[2].resource.foo',
        'Bundle.entry[4].resource.content[0].attachment.hash',
      ]);
    });

    it('validate() applies an explicitly requested profile', () => {
      const doc = validDocRef();
      delete doc.meta;
      delete doc.subject;
      expect(v.validate(doc)).to.deep.equal([]);
      expect(errorPaths(v.validate(doc, { profile: DOCREF_PROFILE }))).to.deep.equal(['DocumentReference.subject']);
    });
  });
});
