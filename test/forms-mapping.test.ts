// The mapping engine over every sample of every form: golden files (what each sample becomes) and properties
// that must hold for any sample (FHIR-Converter style): the round trip is identical, ids are unique, every
// reference resolves, nothing is empty, and the output passes the server's own document validation.
//
// Golden files are written only when asked (UPDATE_GOLDEN=1): a missing or different golden file fails, so a
// change to what a form becomes is always a reviewed diff, never a silently regenerated file.
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { QuestionnaireResponse } from 'fhir/r4.js';
import { buildSchemas } from '../src/engine/forms/build-schemas.js';
import { collectReferences } from '../src/base/references.js';
import { canonicalJson } from '../src/base/canonical-json.js';
import { loadFormRegistry } from '../src/engine/forms/registry.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { formToFhir, questionnaireResponseToForm } from '../src/engine/forms/translate.js';
import { OperationOutcomeError, type Issue } from '../src/base/outcome.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { FormDocument } from '../src/engine/forms/assemble-document.js';
import { validateDocument } from '../src/services/documents/submit-document.js';

const NOW = '2026-11-23T10:00:00.000+09:00';
const SAMPLES_DIR = join(PROJECT_ROOT, 'test', 'samples');
const GOLDEN_DIR = join(PROJECT_ROOT, 'test', 'golden');
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const UPDATE_COMMAND = 'UPDATE_GOLDEN=1 npm run test:one -- test/forms-mapping.test.ts';
const registry = loadFormRegistry();

const jsonFilesIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
const subdirsOf = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
const samplesOf = (form: string): string[] => jsonFilesIn(join(SAMPLES_DIR, form));
const goldenName = (sample: string): string => sample.replace(/\.json$/, '.bundle.json');
const readSample = (form: string, f: string): unknown => JSON.parse(readFileSync(join(SAMPLES_DIR, form, f), 'utf8'));

/** The errors for which the server's validateDocument refuses a document (empty when it would store it). */
function serverValidationErrors(ctx: GatewayContext, doc: FormDocument): Issue[] {
  try {
    validateDocument(ctx, doc);
  } catch (e) {
    // The thrown outcome also carries the warnings and notes found beside the errors; only errors refuse.
    if (e instanceof OperationOutcomeError)
      return e.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    throw e;
  }
  return [];
}

function emptyPaths(v: unknown, path: string, out: string[] = []): string[] {
  if (v === '' || v === null) out.push(path);
  else if (Array.isArray(v)) {
    if (v.length === 0) out.push(path);
    v.forEach((x, i) => emptyPaths(x, `${path}[${i}]`, out));
  } else if (typeof v === 'object') {
    if (Object.keys(v as object).length === 0) out.push(path);
    for (const [k, x] of Object.entries(v as object)) emptyPaths(x, `${path}.${k}`, out);
  }
  return out;
}

describe('form mappings', () => {
  // A real GatewayContext over the project's data, as the server builds it, so the documents here are checked by
  // exactly the validation the server runs before it stores one.
  let ctx: GatewayContext;
  before(async () => {
    ctx = await createGatewayContext(new SqliteStore(':memory:'), { root: PROJECT_ROOT });
  });
  after(() => ctx.store.close());

  it('the checked-in payload schemas are what npm run profiles:build generates', () => {
    for (const [file, text] of buildSchemas())
      expect(readFileSync(file, 'utf8'), `${file} is stale: run npm run profiles:build`).to.equal(text);
  });

  it('every sample has a golden file and every golden file a sample, for forms that exist', () => {
    const problems: string[] = [];
    const rel = (p: string): string => relative(PROJECT_ROOT, p);
    for (const form of subdirsOf(SAMPLES_DIR))
      if (!registry.get(form)) problems.push(`${rel(join(SAMPLES_DIR, form))}: no form ${form} in mappings/`);
    for (const form of subdirsOf(GOLDEN_DIR)) {
      if (!registry.get(form)) problems.push(`${rel(join(GOLDEN_DIR, form))}: no form ${form} in mappings/`);
      const samples = new Set(samplesOf(form).map(goldenName));
      for (const g of readdirSync(join(GOLDEN_DIR, form)).sort())
        if (!samples.has(g))
          problems.push(
            `${rel(join(GOLDEN_DIR, form, g))} has no sample: delete it, or add the sample it was made from`,
          );
    }
    // Under UPDATE_GOLDEN=1 the missing ones are about to be written by the tests below.
    if (!UPDATE_GOLDEN)
      for (const form of registry.forms.keys())
        for (const f of samplesOf(form))
          if (!existsSync(join(GOLDEN_DIR, form, goldenName(f))))
            problems.push(
              `${rel(join(SAMPLES_DIR, form, f))} has no golden file: write it with ${UPDATE_COMMAND}, then review it`,
            );
    expect(problems).to.deep.equal([]);
  });

  for (const def of registry.forms.values()) {
    describe(def.name, () => {
      it('has samples', () => expect(samplesOf(def.name).length).to.be.greaterThan(2));

      it('checks the 保険者番号 check digit and the 被保険者番号 shape', () => {
        const itemAt = (path: string | undefined) =>
          [...def.items.values()].find((it) => it.type !== 'group' && def.mapping.paths[it.linkId] === path);
        const insurer = itemAt(def.mapping.keys.insurerNumber);
        expect(insurer, 'keys.insurerNumber names an item').to.not.equal(undefined);
        expect(
          insurer!.extension?.some((e) => e.url.endsWith('/check-digit') && e.valueCode === 'mod10-weights-2-1'),
        ).to.equal(true);
        const insured =
          def.mapping.keys.insuredNumber === undefined ? undefined : itemAt(def.mapping.keys.insuredNumber);
        if (insured)
          expect(insured.extension?.find((e) => e.url.endsWith('/regex'))?.valueString).to.equal(
            '^([0-9]{10}|H[0-9]{9})$',
          );
      });

      for (const f of samplesOf(def.name)) {
        describe(f, () => {
          const payload = readSample(def.name, f);
          const doc = formToFhir(def, payload, { now: NOW });

          it('matches its golden file', () => {
            const golden = join(GOLDEN_DIR, def.name, goldenName(f));
            const where = relative(PROJECT_ROOT, golden);
            const actual = `${JSON.stringify(doc.bundle, null, 2)}\n`;
            if (UPDATE_GOLDEN) {
              mkdirSync(join(golden, '..'), { recursive: true });
              writeFileSync(golden, actual);
            }
            expect(existsSync(golden), `${where} is missing: write it with ${UPDATE_COMMAND}, then review it`).to.equal(
              true,
            );
            expect(
              actual,
              `${where} differs from what the sample becomes; if that is intended: ${UPDATE_COMMAND}, and review the diff`,
            ).to.equal(readFileSync(golden, 'utf8'));
          });

          it('round-trips form → FHIR → form identically (full-width text, kana, era dates kept)', () => {
            const back = questionnaireResponseToForm(def, doc.questionnaireResponse);
            expect(back).to.deep.equal(payload);
            expect(canonicalJson(back)).to.equal(canonicalJson(payload));
          });

          it('round-trips through JSON text as a client would send it', () => {
            const qr = JSON.parse(JSON.stringify(doc.questionnaireResponse)) as QuestionnaireResponse;
            expect(questionnaireResponseToForm(def, qr)).to.deep.equal(payload);
          });

          it('has unique ids and fullUrls, and every reference resolves inside the document', () => {
            const entries = doc.bundle.entry ?? [];
            const fullUrls = entries.map((e) => e.fullUrl);
            expect(new Set(fullUrls).size).to.equal(fullUrls.length);
            const ids = entries.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
            expect(new Set(ids).size).to.equal(ids.length);
            const refs = collectReferences(doc.bundle, 'Bundle');
            expect(refs.length).to.be.greaterThan(3);
            for (const r of refs) expect(fullUrls, `${r.path} → ${r.reference}`).to.include(r.reference);
            expect(entries[0]!.resource!.resourceType).to.equal('Composition');
          });

          it('stand-alone resources reference each other by Type/id, all present', () => {
            const have = new Set([...doc.resources, doc.documentReference].map((r) => `${r.resourceType}/${r.id}`));
            for (const r of [...doc.resources, doc.documentReference]) {
              for (const ref of collectReferences(r, r.resourceType)) {
                if (ref.reference.startsWith('Bundle/')) expect(ref.reference).to.equal(`Bundle/${doc.bundle.id}`);
                else expect(have, `${ref.path} → ${ref.reference}`).to.include(ref.reference);
              }
            }
            expect(doc.documentReference.content[0]!.attachment.url).to.equal(`Bundle/${doc.bundle.id}`);
          });

          it('emits nothing empty', () => {
            expect(emptyPaths(doc.bundle, 'Bundle')).to.deep.equal([]);
            expect(emptyPaths(doc.documentReference, 'DocumentReference')).to.deep.equal([]);
          });

          it("passes the server's document validation (base spec, gateway profiles, Questionnaire)", () => {
            expect(serverValidationErrors(ctx, doc)).to.deep.equal([]);
          });

          it('is deterministic: the same payload gives the same ids', () => {
            const again = formToFhir(def, payload, { now: NOW });
            expect((again.bundle.entry ?? []).map((e) => e.fullUrl)).to.deep.equal(
              (doc.bundle.entry ?? []).map((e) => e.fullUrl),
            );
          });
        });
      }
    });
  }
});

describe('form mapping errors (主治医意見書)', () => {
  const def = registry.get('shujii-ikensho')!;
  const base = (): any => readSample('shujii-ikensho', 'full.json');
  const problems = (payload: unknown): Array<{ expression?: string; diagnostics: string; code: string }> => {
    try {
      formToFhir(def, payload, { now: NOW });
    } catch (e) {
      if (e instanceof OperationOutcomeError) return e.issues.map((i) => ({ ...i }));
      throw e;
    }
    return [];
  };

  it('reports every problem at once, each with its path', () => {
    const p = base();
    p.header.applicant.sex = '9';
    p.header.insuredNumber = '12345';
    p.header.unknownField = 'x';
    delete p.header.recordDate;
    const exprs = problems(p).map((i) => i.expression);
    expect(exprs).to.include.members([
      'header.applicant.sex',
      'header.insuredNumber',
      'header.unknownField',
      'header.recordDate',
    ]);
  });

  it('refuses an impossible date and an era date outside its era', () => {
    const p = base();
    p.header.lastExaminationDate = '2026-02-30';
    expect(problems(p).map((i) => i.expression)).to.include('header.lastExaminationDate');
    const q = base();
    q.header.applicant.birthDate = '昭和64年1月8日';
    const issues = problems(q);
    expect(issues.map((i) => i.expression)).to.include('header.applicant.birthDate');
    expect(issues.find((i) => i.expression === 'header.applicant.birthDate')!.diagnostics).to.match(/昭和/);
  });

  it('refuses a code outside the choices of a multi-select item', () => {
    const p = base();
    p.specialMedicalCare.treatments = ['1', '99'];
    expect(problems(p).map((i) => i.expression)).to.include('specialMedicalCare.treatments[1]');
  });

  it('keeps era dates and full-width text exactly, and converts them for FHIR', () => {
    const p = base();
    p.header.applicant.birthDate = '昭和１５年３月１日';
    p.specialNotes = '全角テキスト　ＡＢＣ　ｶﾀｶﾅ\n二行目';
    const doc = formToFhir(def, p, { now: NOW });
    const patient = doc.resources.find((r) => r.resourceType === 'Patient') as { birthDate?: string };
    expect(patient.birthDate).to.equal('1940-03-01');
    expect(questionnaireResponseToForm(def, doc.questionnaireResponse)).to.deep.equal(p);
  });

  it('refuses a QuestionnaireResponse whose era text no longer matches its date', () => {
    const doc = formToFhir(def, base(), { now: NOW });
    const qr = JSON.parse(JSON.stringify(doc.questionnaireResponse)) as any;
    const findDate = (items: any[]): any =>
      items.flatMap((i) => [...(i.answer ?? []).filter((a: any) => a.extension), ...findDate(i.item ?? [])]);
    const withEra = findDate(qr.item);
    expect(withEra.length).to.be.greaterThan(0);
    withEra[0].valueDate = '1999-01-01';
    expect(() => questionnaireResponseToForm(def, qr)).to.throw(OperationOutcomeError);
  });
});
