// The compiled R4 base validator (src/engine/validation/base-validator.ts): the R4 JSON schema by ajv, the model
// walk, required bindings and every R4 invariant. Checked three ways: probes of what the previous validator
// (Medplum 4.5.2, test/support/medplum-validator.ts) let through; a cross-check with Medplum over every golden
// file and the real JP Core / JP-CLINS corpus (no valid resource refused); and the invariant fast path against
// fhirpath.js on the same data and on generated values.
import { expect } from 'chai';
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Issue } from '../src/base/outcome.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { createR4Validator, loadBaseDefinitions, validateBase } from '../src/engine/validation/base-validator.js';
import { buildR4Artifacts, type R4Artifacts } from '../src/engine/validation/r4-cache.js';
import {
  createInvariantEngine,
  REWRITTEN_INVARIANTS,
  SKIPPED_INVARIANTS,
} from '../src/engine/validation/r4-invariants.js';
import { isCalendarDate } from '../src/engine/validation/r4-primitives.js';
import { pointerToPath } from '../src/engine/validation/r4-schema.js';
import * as medplum from './support/medplum-validator.js';
import { SHARED_DIR } from './support/corpus.js';

const errors = (issues: readonly Issue[]): Issue[] =>
  issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
const paths = (issues: readonly Issue[]): (string | undefined)[] => errors(issues).map((i) => i.expression);
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

/** Every FHIR resource of the golden files and of the JP Core / JP-CLINS corpus: [label, resource]. */
function corpus(): Array<[string, Record<string, unknown>]> {
  const dirs = [
    join(PROJECT_ROOT, 'test', 'golden'),
    join(SHARED_DIR, 'corpus', 'jp-core'),
    join(SHARED_DIR, 'corpus', 'jp-clins'),
  ];
  const out: Array<[string, Record<string, unknown>]> = [];
  for (const dir of dirs) {
    for (const file of jsonFiles(dir)) {
      const json = readJson(file) as Record<string, unknown> | null;
      if (typeof json?.resourceType === 'string') out.push([relative(join(dir, '..'), file), json]);
    }
  }
  return out;
}

const patient = (extra: Record<string, unknown>): Record<string, unknown> => ({ resourceType: 'Patient', ...extra });

describe('R4 validator (compiled)', function () {
  this.timeout(120_000);
  let artifacts: R4Artifacts;
  before(() => {
    artifacts = loadBaseDefinitions();
    medplum.loadBaseDefinitions();
  });

  describe('refuses the probes, each with the path to the bad element', () => {
    // [what, resource, path, diagnostics, whether Medplum let it through]
    const probes: Array<[string, Record<string, unknown>, string, RegExp, boolean?]> = [
      [
        'a code outside its required ValueSet',
        patient({ gender: 'x' }),
        'Patient.gender',
        /administrative-gender/,
        true,
      ],
      [
        'qty-3: a Quantity with a code but no system',
        {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'BW' },
          valueQuantity: { value: 52, code: 'kg' },
        },
        'Observation.valueQuantity',
        /^qty-3:/,
        true,
      ],
      [
        'per-1: a Period that ends before it starts',
        {
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          period: { start: '2024-04-02', end: '2024-04-01' },
        },
        'Encounter.period',
        /^per-1:/,
        true,
      ],
      [
        'dom-2: a contained resource with its own contained',
        patient({
          contained: [
            {
              resourceType: 'Organization',
              id: 'o1',
              name: 'A',
              contained: [{ resourceType: 'Organization', name: 'B' }],
            },
          ],
          managingOrganization: { reference: '#o1' },
        }),
        'Patient',
        /^dom-2:/,
      ],
      [
        'dom-3: a contained resource nothing refers to',
        patient({ contained: [{ resourceType: 'Organization', id: 'o1', name: 'A' }] }),
        'Patient',
        /^dom-3:/,
      ],
      [
        'dom-4: a contained resource with a version id',
        patient({
          contained: [{ resourceType: 'Organization', id: 'o1', meta: { versionId: '2' }, name: 'A' }],
          managingOrganization: { reference: '#o1' },
        }),
        'Patient',
        /^dom-4:/,
      ],
      ['an impossible calendar date', patient({ birthDate: '2023-02-30' }), 'Patient.birthDate', /Invalid date/, true],
      [
        'bdl-7: two entries with the same fullUrl',
        {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            { fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1', resource: patient({}) },
            { fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1', resource: patient({}) },
          ],
        },
        'Bundle',
        /^bdl-7:/,
      ],
      [
        'bdl-8: a version-specific fullUrl',
        {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [{ fullUrl: 'https://x.example/fhir/Patient/1/_history/2', resource: patient({}) }],
        },
        'Bundle.entry[0]',
        /^bdl-8:/,
      ],
      [
        'a root invariant of a Bundle entry (org-1: an Organization needs an identifier or a name)',
        {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [{ resource: { resourceType: 'Organization', active: true } }],
        },
        'Bundle.entry[0].resource',
        /^org-1:/,
        true,
      ],
      [
        'a required CodeableConcept binding (Condition.clinicalStatus)',
        {
          resourceType: 'Condition',
          subject: { reference: 'Patient/p1' },
          clinicalStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'gone' }],
          },
        },
        'Condition.clinicalStatus.coding',
        /condition-clinical/,
        true,
      ],
      ['an unsignedInt below 0', patient({ photo: [{ size: -1 }] }), 'Patient.photo[0].size', /unsignedInt/],
      [
        'an integer that is not whole',
        patient({ multipleBirthInteger: 1.5 }),
        'Patient.multipleBirthInteger',
        /integer/,
      ],
    ];
    for (const [what, resource, path, diagnostics, medplumMissed] of probes) {
      it(`${what}${medplumMissed ? ' (Medplum let it through)' : ''}`, () => {
        const found = errors(validateBase(resource));
        expect(found.map((i) => i.expression)).to.include(path);
        expect(found.find((i) => i.expression === path)?.diagnostics).to.match(diagnostics);
        if (medplumMissed)
          expect(
            errors(medplum.validateBase(resource)).map((i) => i.expression),
            'Medplum',
          ).not.to.include(path);
      });
    }

    it('calendar dates: leap years by the Gregorian rules, partial dates and dateTimes too', () => {
      for (const ok of ['2024-02-29', '2000-02-29', '2023-04-30', '2023', '2023-02', '2024-02-29T23:59:59+09:00'])
        expect(isCalendarDate(ok), ok).to.equal(true);
      for (const bad of ['2023-02-29', '1900-02-29', '2023-04-31', '2024-02-30T10:00:00Z'])
        expect(isCalendarDate(bad), bad).to.equal(false);
      expect(
        paths(
          validateBase({
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            effectiveDateTime: '2023-06-31T10:00:00+09:00',
          }),
        ),
      ).to.deep.equal(['Observation.effectiveDateTime']);
    });
  });

  describe('never stricter than R4', () => {
    it('a contained resource may have narrative (R4 4.0.1 has no dom-1)', () => {
      const r = patient({
        contained: [
          {
            resourceType: 'Organization',
            id: 'o1',
            name: 'A',
            text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">A</div>' },
          },
        ],
        managingOrganization: { reference: '#o1' },
      });
      expect(errors(validateBase(r))).to.deep.equal([]);
    });

    it('full-width spaces are text: in a string, a uri and a code (XML Schema whitespace is 4 characters)', () => {
      const r = patient({
        name: [{ text: '介護　花子' }, { text: '　' }],
        identifier: [{ system: 'urn:x-kaigo:被保険者　番号', value: '0123456789' }],
        maritalStatus: { coding: [{ system: 'urn:x-kaigo:marital', code: '未　婚' }] },
      });
      expect(errors(validateBase(r))).to.deep.equal([]);
      expect(paths(validateBase(patient({ name: [{ text: ' \t' }] })))).to.deep.equal(['Patient.name[0].text']);
    });

    it('null in a primitive array beside its _ entry, and a primitive given only by its extension', () => {
      const ext = {
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }],
      };
      expect(errors(validateBase(patient({ name: [{ given: ['花子', null], _given: [null, ext] }] })))).to.deep.equal(
        [],
      );
      expect(errors(validateBase({ resourceType: 'Bundle', _type: ext }))).to.deep.equal([]); // Bundle.type 1..1: present
      expect(paths(validateBase(patient({ name: [{ given: ['花子', null] }] })))).to.deep.equal([
        'Patient.name[0].given[1]',
      ]);
    });

    it('a binding whose ValueSet cannot be expanded locally is not enforced (and is listed)', () => {
      expect(artifacts.model.unexpandable).to.have.keys(
        'http://hl7.org/fhir/ValueSet/mimetypes',
        'http://hl7.org/fhir/ValueSet/currencies',
        'http://hl7.org/fhir/ValueSet/ucum-units',
        'http://loinc.org/vs/LL379-9',
      );
      const r = { resourceType: 'Binary', contentType: 'application/x-kaigo' };
      expect(errors(validateBase(r))).to.deep.equal([]);
    });

    it('a CodeableConcept it cannot judge passes: text only, or a coding without system', () => {
      const c = (clinicalStatus: unknown) => ({
        resourceType: 'Condition',
        subject: { reference: 'Patient/p1' },
        clinicalStatus,
      });
      expect(errors(validateBase(c({ text: '寛解' })))).to.deep.equal([]);
      expect(
        errors(validateBase(c({ coding: [{ code: 'x' }, { system: 'http://x.example', code: 'y' }] }))),
      ).to.deep.equal([]);
    });
  });

  describe('structure and JSON types (the R4 JSON schema, patched to R4)', () => {
    it('paths are FHIRPath-style, into Bundle entries', () => {
      expect(pointerToPath('Bundle', '/entry/2/resource/gender')).to.equal('Bundle.entry[2].resource.gender');
      const b = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: patient({}) }, { resource: patient({ gender: 3, foo: 1 }) }],
      };
      expect(paths(validateBase(b))).to.have.members([
        'Bundle.entry[1].resource.gender',
        'Bundle.entry[1].resource.foo',
      ]);
    });

    it('an object where an element is expected, and xhtml that is not a string', () => {
      expect(paths(validateBase(patient({ name: ['介護 花子'] })))).to.deep.equal(['Patient.name[0]']);
      expect(paths(validateBase(patient({ text: { status: 'generated', div: 1 } })))).to.deep.equal([
        'Patient.text.div',
      ]);
    });

    it("Medplum's own elements are not R4 (Meta.project, Reference.resource, Binary.url)", () => {
      expect(paths(validateBase(patient({ meta: { project: 'x' } })))).to.deep.equal(['Patient.meta.project']);
      expect(paths(validateBase(patient({ managingOrganization: { resource: {} } })))).to.deep.equal([
        'Patient.managingOrganization.resource',
      ]);
      expect(paths(validateBase({ resourceType: 'Binary', contentType: 'text/plain', url: 'x' }))).to.deep.equal([
        'Binary.url',
      ]);
      expect(paths(validateBase({ resourceType: 'SubscriptionStatus' }))).to.deep.equal([
        'SubscriptionStatus.resourceType',
      ]);
    });

    it('cardinality from the StructureDefinitions: a missing required element, also in a backbone', () => {
      expect(paths(validateBase({ resourceType: 'Patient', link: [{ type: 'seealso' }] }))).to.deep.equal([
        'Patient.link[0].other',
      ]);
      expect(paths(validateBase({ resourceType: 'Observation', code: { text: 'x' } }))).to.deep.equal([
        'Observation.status',
      ]);
    });

    it('ele-1: no empty element, array or string', () => {
      expect(paths(validateBase(patient({ name: [] })))).to.deep.equal(['Patient.name']);
      expect(paths(validateBase(patient({ maritalStatus: {} })))).to.deep.equal(['Patient.maritalStatus']);
      expect(paths(validateBase(patient({ maritalStatus: { id: 'a' } })))).to.deep.equal(['Patient.maritalStatus']);
      expect(paths(validateBase(patient({ photo: [{ url: '' }] })))).to.deep.equal(['Patient.photo[0].url']);
    });
  });

  describe('cross-check with Medplum over every golden file and the JP Core / JP-CLINS corpus', () => {
    // Refused by R4 as published: ImplementationGuide.definition.parameter.code binds guide-parameter-code
    // (required) in 4.0.1; the IG publisher's own parameters (copyrightyear, releaselabel …) are not in it.
    // R5 made the binding extensible. Medplum does not check bindings.
    const R4_REFUSES = [
      'jp-core/jp-core.r4-1.1.2-url/ImplementationGuide-jpfhir.jp.core.json',
      'jp-clins/jp-clins.r4-1.5.2-snap/ImplementationGuide-clinical-information-sharing.json',
    ];
    let all: Array<[string, Record<string, unknown>]>;
    before(() => {
      all = corpus();
    });

    it('finds the corpus (golden files, JP Core examples and profiles, JP-CLINS examples and snapshots)', () => {
      expect(all.filter(([f]) => f.startsWith('golden/')).length).to.be.greaterThanOrEqual(70);
      expect(all.filter(([f]) => f.startsWith('jp-core/')).length).to.be.greaterThanOrEqual(300);
      expect(all.filter(([f]) => f.startsWith('jp-clins/')).length).to.be.greaterThanOrEqual(130);
    });

    it('no resource Medplum accepts is refused, except where R4 itself refuses it', () => {
      const refused: string[] = [];
      const medplumOnly: string[] = [];
      for (const [file, r] of all) {
        const mine = errors(validateBase(r));
        const theirs = errors(medplum.validateBase(r));
        if (mine.length && !theirs.length) refused.push(file);
        if (!mine.length && theirs.length) medplumOnly.push(file);
        if (R4_REFUSES.includes(file))
          for (const i of mine) {
            expect(i.expression).to.match(/^ImplementationGuide\.definition\.parameter\[\d+\]\.code$/);
            expect(i.diagnostics).to.match(/guide-parameter-code/);
          }
      }
      expect(refused).to.deep.equal(R4_REFUSES);
      expect(medplumOnly).to.deep.equal([]);
    });

    it('the JP-CLINS error examples keep their verdict: base-valid for both (their faults are JP-CLINS rules)', () => {
      const examples = all.filter(([f]) => f.includes('ErrorExample'));
      expect(examples).to.have.length(3);
      for (const [file, r] of examples) {
        expect(errors(validateBase(r)), file).to.deep.equal([]);
        expect(errors(medplum.validateBase(r)), file).to.deep.equal([]);
      }
    });

    it('every invariant evaluates on the corpus (no evaluation error), and the fast path agrees with fhirpath.js', () => {
      const disagreements: string[] = [];
      const evaluated = new Map<string, number>();
      const check = createR4Validator(artifacts, {
        crossCheck: (key, path) => disagreements.push(`${key} at ${path}`),
        onEvaluate: (key) => evaluated.set(key, (evaluated.get(key) ?? 0) + 1),
      });
      const informational: string[] = [];
      for (const [file, r] of all) {
        for (const i of check(r))
          if (i.severity === 'information') informational.push(`${file}: ${i.expression} ${i.diagnostics}`);
      }
      expect(disagreements).to.deep.equal([]);
      expect(informational).to.deep.equal([]);
    });
  });

  describe('invariants', () => {
    it('every R4 invariant compiles once with fhirpath.js, except the listed ones', () => {
      const skipped = createInvariantEngine(artifacts.model).compileAll();
      expect(skipped).to.deep.equal(SKIPPED_INVARIANTS);
      expect(Object.keys(REWRITTEN_INVARIANTS)).to.deep.equal(['dom-3']);
      const keys = new Set(artifacts.model.constraints.map((c) => c.key));
      for (const k of [...Object.keys(SKIPPED_INVARIANTS), 'dom-3', 'per-1', 'qty-3', 'bdl-7', 'bdl-8', 'ref-1'])
        expect(keys.has(k), k).to.equal(true);
    });

    it('the fast path agrees with fhirpath.js on generated Periods, Quantities, References and Bundle entries', () => {
      const disagreements: string[] = [];
      const check = createR4Validator(artifacts, {
        crossCheck: (key, path) => disagreements.push(`${key} at ${path}`),
      });
      const date = fc.constantFrom('2024', '2024-04', '2024-04-01', '2024-04-01T10:00:00+09:00', '2023-12-31');
      const str = fc.constantFrom(
        '#o1',
        '#x',
        'Patient/1',
        'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1',
        'a/_history/1',
      );
      const period = fc.record({ start: date, end: date }, { requiredKeys: [] });
      const quantity = fc.record(
        {
          value: fc.integer({ min: 0, max: 5 }),
          code: fc.constantFrom('kg', 'mg'),
          system: fc.constant('http://unitsofmeasure.org'),
          unit: fc.constant('kg'),
        },
        { requiredKeys: [] },
      );
      const reference = fc.record({ reference: str, display: fc.constant('x') }, { requiredKeys: [] });
      fc.assert(
        fc.property(
          period,
          quantity,
          reference,
          fc.array(fc.record({ fullUrl: str }, { requiredKeys: [] }), { maxLength: 3 }),
          (p, q, ref, entries) => {
            const obs = {
              resourceType: 'Observation',
              status: 'final',
              code: { text: 'x' },
              ...(Object.keys(p).length ? { effectivePeriod: p } : {}),
              ...(Object.keys(q).length ? { valueQuantity: q } : {}),
              ...(Object.keys(ref).length ? { subject: ref } : {}),
              contained: [{ resourceType: 'Organization', id: 'o1', name: 'A' }],
              performer: [{ reference: '#o1' }],
            };
            check({
              resourceType: 'Bundle',
              type: 'collection',
              entry: [
                ...entries.map((e) => ({ ...e, resource: { resourceType: 'Basic', code: { text: 'b' } } })),
                { resource: obs },
              ],
            });
          },
        ),
        { numRuns: 300, seed: 20261123 },
      );
      expect(disagreements).to.deep.equal([]);
    });
  });

  describe('definitions corrected to R4 4.0.1 and the cache', () => {
    let built: ReturnType<typeof buildR4Artifacts>;
    before(() => {
      built = buildR4Artifacts();
    });

    it('what differs from R4 in the shipped definitions is dropped, added or retyped, and logged', () => {
      const dropped = built.model.corrections
        .filter((c) => c.endsWith(': not an R4 element'))
        .map((c) => /^dropped (\S+): /.exec(c)?.[1] ?? c);
      for (const p of dropped)
        expect(p).to.match(
          /^(Meta\.|Binary\.url$|ObservationDefinition\.publisher$|DeviceDefinition\.|ResearchStudy\.|EvidenceVariable\.characteristic\.)/,
        );
      expect(dropped).to.include.members(['Meta.project', 'Meta.compartment', 'Binary.url']);
      expect(built.model.corrections).to.include('dropped SubscriptionStatus: fhirVersion 4.3.0, not 4.0.1');
      expect(built.model.corrections).to.include(
        'type of Bundle.entry.response.outcome: Resource (the copy says OperationOutcome)',
      );
      const removed = built.schema.patches.filter((p) => p.endsWith('removed: not an R4 element'));
      expect(removed.length).to.be.greaterThan(10);
      expect(removed).to.include.members([
        'Meta.project removed: not an R4 element',
        'Reference.resource removed: not an R4 element',
      ]);
    });

    it('the cached artifacts are the ones the sources build', () => {
      expect(JSON.stringify(built.model)).to.equal(JSON.stringify(artifacts.model));
    });
  });
});
