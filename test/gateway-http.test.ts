// The backbone end to end through real HTTPS with mutual TLS: a hospital submits a 主治医意見書, the insuring
// municipality finds and pulls it, everyone else is refused.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JP_CORE_DIR } from './support/corpus.js';
import { startTestPg, type TestPg } from './support/pg.js';
import { addParty, sample, startTestGateway, type Client, type TestGateway } from './support/gateway.js';

const jpCore = (f: string): any => JSON.parse(readFileSync(join(JP_CORE_DIR, f), 'utf8'));

const INSURED = 'http://kaigo-gateway.jp/fhir/IdSystem/ltci-insured-number';
const INSURER = 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber';

/** A sample as the test hospital (医療機関コード 1311234567) would send it. */
function fromHospital(name: string, documentId?: string): any {
  const p = sample(name);
  p.header.institution.code = '1311234567';
  if (documentId !== undefined) p.header.documentId = documentId;
  return p;
}

// The same suite against the embedded SQLite store and against PostgreSQL (several gateway nodes).
for (const storeKind of ['sqlite', 'postgresql'] as const)
  describe(`gateway over mutual TLS: 主治医意見書 end to end (${storeKind})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let pgServer: TestPg | undefined;
    let hospital: Client;
    let municipality: Client;
    let careOffice: Client;
    let otherMunicipality: Client;

    before(async () => {
      if (storeKind === 'postgresql') pgServer = await startTestPg();
      gw = await startTestGateway(pgServer ? { databaseUrl: await pgServer.newDatabase() } : {});
      await addParty(gw, 'municipality-131029', { kind: 'municipality', code: '131029', name: '東京都中央区' });
      hospital = gw.client('hospital');
      municipality = gw.client('municipality');
      careOffice = gw.client('care-office');
      otherMunicipality = gw.client('municipality-131029');
    });
    after(async () => {
      await gw.stop();
      pgServer?.stop();
    });

    const countDocs = async (): Promise<number> => (await hospital.get('/fhir/DocumentReference?_count=1')).body.total;

    describe('submit and pull a care-form payload', () => {
      let location: string;
      const payload = fromHospital('full');

      it('the hospital POSTs the form: 201 with the Location of the stored document', async () => {
        const r = await hospital.post('/forms/shujii-ikensho', payload, { 'content-type': 'application/json' });
        expect(r.status, r.text).to.equal(201);
        location = String(r.headers.location);
        expect(location).to.match(/^\/forms\/shujii-ikensho\/[0-9a-f-]{36}$/);
        expect(r.body.resourceType).to.equal('DocumentReference');
      });

      it('a retried POST makes no duplicate: 200 with the same Location', async () => {
        const before = await countDocs();
        const r = await hospital.post('/forms/shujii-ikensho', payload);
        expect(r.status).to.equal(200);
        expect(r.headers.location).to.equal(location);
        expect(await countDocs()).to.equal(before);
      });

      it('a different document under the same documentId is a 409, not an overwrite', async () => {
        const changed = fromHospital('full');
        changed.specialNotes = '書き換えた特記事項';
        const r = await hospital.post('/forms/shujii-ikensho', changed);
        expect(r.status).to.equal(409);
        expect(r.body.resourceType).to.equal('OperationOutcome');
      });

      it('the insuring municipality gets the same payload back, field for field', async () => {
        const r = await municipality.get(location);
        expect(r.status, r.text).to.equal(200);
        expect(r.body).to.deep.equal(payload);
        expect(r.text).to.include(payload.header.applicant.birthDate); // era date exactly as sent
      });

      it('the hospital that wrote it can read it back too', async () => {
        expect((await hospital.get(location)).status).to.equal(200);
      });

      it('another municipality, and a care office, get 403 OperationOutcome', async () => {
        for (const c of [otherMunicipality, careOffice]) {
          const r = await c.get(location);
          expect(r.status).to.equal(403);
          expect(r.body.resourceType).to.equal('OperationOutcome');
          expect(r.headers['content-type']).to.match(/application\/fhir\+json/);
        }
      });

      it('only a hospital may submit: municipality and care office get 403, nothing stored', async () => {
        const before = await countDocs();
        for (const c of [municipality, careOffice]) {
          const r = await c.post('/forms/shujii-ikensho', fromHospital('minimal', `x-${Math.random()}`));
          expect(r.status).to.equal(403);
        }
        expect(await countDocs()).to.equal(before);
      });

      it("a hospital cannot submit in another hospital's name (code from the certificate)", async () => {
        const p = fromHospital('minimal', 'forged-1');
        p.header.institution.code = '2711234568';
        const r = await hospital.post('/forms/shujii-ikensho', p);
        expect(r.status).to.equal(403);
      });
    });

    describe('bad input: a clear 4xx OperationOutcome, nothing stored', () => {
      it('lists every problem with its path (422)', async () => {
        const before = await countDocs();
        const p = fromHospital('full', 'bad-1');
        p.header.applicant.sex = '9';
        p.header.insuredNumber = 'abc';
        p.diseases.diagnoses[0].onsetDate = '令和元年4月';
        const r = await hospital.post('/forms/shujii-ikensho', p);
        expect(r.status).to.equal(422);
        const exprs = r.body.issue.flatMap((i: any) => i.expression ?? []);
        expect(exprs).to.include.members(['header.applicant.sex', 'header.insuredNumber']);
        expect(await countDocs()).to.equal(before);
        const r2 = await hospital.post('/forms/shujii-ikensho', {
          ...p,
          header: { ...p.header, applicant: { ...p.header.applicant, sex: '1' }, insuredNumber: '0000000001' },
        });
        expect(r2.status).to.equal(422);
        expect(r2.body.issue.map((i: any) => i.expression?.[0])).to.include('diseases.diagnoses[0].onsetDate');
      });

      it('malformed JSON is 400', async () => {
        const r = await hospital.postRaw('/forms/shujii-ikensho', '{"header": ', 'application/json');
        expect(r.status).to.equal(400);
        expect(r.body.resourceType).to.equal('OperationOutcome');
      });

      it('unknown form 404, unknown endpoint 404, wrong method 405', async () => {
        expect((await hospital.post('/forms/no-such-form', {})).status).to.equal(404);
        expect((await hospital.get('/nothing-here')).status).to.equal(404);
        const r = await hospital.post('/fhir/metadata', {});
        expect(r.status).to.equal(405);
        expect(r.body.resourceType).to.equal('OperationOutcome');
      });

      it('an unknown search parameter is a 400 naming it, not silently ignored', async () => {
        const r = await municipality.get('/fhir/DocumentReference?insured-numbr=1');
        expect(r.status).to.equal(400);
        expect(r.body.issue[0].expression).to.deep.equal(['insured-numbr']);
      });
    });

    describe('FHIR search, read and paging for the municipality', () => {
      const insured = '0007654321';
      before(async () => {
        for (let i = 0; i < 5; i++) {
          const p = fromHospital('minimal', `page-${i}`);
          p.header.insuredNumber = insured;
          p.header.recordDate = `2026-11-1${i}`;
          const r = await hospital.post('/forms/shujii-ikensho', p);
          expect(r.status, r.text).to.equal(201);
        }
        const other = fromHospital('other-insurer');
        expect((await hospital.post('/forms/shujii-ikensho', other)).status).to.equal(201);
      });

      it('finds by insured number, insurer number, type and status; pages with next/previous links', async () => {
        const q = `insured-number=${encodeURIComponent(`${INSURED}|${insured}`)}&insurer-number=${encodeURIComponent(`${INSURER}|131011`)}&type=shujii-ikensho&status=current&_count=2`;
        const page1 = await municipality.get(`/fhir/DocumentReference?${q}`);
        expect(page1.status, page1.text).to.equal(200);
        expect(page1.body.type).to.equal('searchset');
        expect(page1.body.total).to.equal(5);
        expect(page1.body.entry).to.have.length(2);
        const next = page1.body.link.find((l: any) => l.relation === 'next').url as string;
        const page2 = await municipality.get(new URL(next).pathname + new URL(next).search);
        expect(page2.body.entry).to.have.length(2);
        const prev = page2.body.link.find((l: any) => l.relation === 'previous');
        expect(prev).to.not.equal(undefined);
        const ids = new Set([...page1.body.entry, ...page2.body.entry].map((e: any) => e.resource.id));
        expect(ids.size).to.equal(4);
        const page3 = await municipality.get(
          new URL(page2.body.link.find((l: any) => l.relation === 'next').url).pathname +
            new URL(page2.body.link.find((l: any) => l.relation === 'next').url).search,
        );
        expect(page3.body.entry).to.have.length(1);
        expect(page3.body.link.find((l: any) => l.relation === 'next')).to.equal(undefined);
      });

      it('searches by date', async () => {
        const today = new Date().toISOString().slice(0, 10);
        const r = await municipality.get(
          `/fhir/DocumentReference?date=ge${today.slice(0, 7)}&insured-number=${insured}`,
        );
        expect(r.body.total).to.equal(5);
        const none = await municipality.get(`/fhir/DocumentReference?date=lt2000-01-01&insured-number=${insured}`);
        expect(none.body.total).to.equal(0);
      });

      it('sees only documents of its own insurer', async () => {
        const all = await municipality.get('/fhir/DocumentReference?_count=100');
        for (const e of all.body.entry) expect(e.resource.context.related[0].identifier.value).to.equal('131011');
        const theirs = await otherMunicipality.get('/fhir/DocumentReference?_count=100');
        expect(theirs.body.total).to.equal(0);
        // a care office writes care plans, so it may search — and finds none of these opinions
        const office = await careOffice.get('/fhir/DocumentReference?type=shujii-ikensho');
        expect(office.status).to.equal(200);
        expect(office.body.total).to.equal(0);
      });

      it('reads the DocumentReference, its document Bundle, and the QuestionnaireResponse', async () => {
        const r = await municipality.get(`/fhir/DocumentReference?insured-number=${insured}&_count=1`);
        const docRef = r.body.entry[0].resource;
        const bundle = await municipality.get(`/fhir/${docRef.content[0].attachment.url}`);
        expect(bundle.status).to.equal(200);
        expect(bundle.body.type).to.equal('document');
        expect(bundle.body.entry[0].resource.resourceType).to.equal('Composition');
        expect(bundle.headers.etag).to.equal('W/"1"');
        const qr = await municipality.get(
          `/fhir/QuestionnaireResponse?identifier=${encodeURIComponent(docRef.identifier[0].value)}`,
        );
        expect(qr.body.total).to.equal(1);
      });

      it('CapabilityStatement lists the resources and search parameters', async () => {
        const r = await municipality.get('/fhir/metadata');
        expect(r.body.resourceType).to.equal('CapabilityStatement');
        const dr = r.body.rest[0].resource.find((x: any) => x.type === 'DocumentReference');
        expect(dr.searchParam.map((p: any) => p.name)).to.include.members([
          'insured-number',
          'insurer-number',
          'type',
          'date',
          'status',
        ]);
      });
    });

    describe('FHIR create and transactions', () => {
      it('accepts the JP Core Patient, Practitioner and Organization examples (the Organization under its own code)', async () => {
        for (const f of [
          'Patient-jp-patient-example-1.json',
          'Practitioner-jp-practitioner-example-male-1.json',
          'Organization-jp-organization-example-hospital.json',
        ]) {
          // The example hospital's 医療機関コード is 1319876543; an organisation may only name itself by its own code,
          // so the test hospital sends the example as itself (1311234567, 医療機関番号 1234567).
          const res = JSON.parse(
            JSON.stringify(jpCore(f))
              .replace(/"1319876543"/g, '"1311234567"')
              .replace(/"9876543"/g, '"1234567"'),
          );
          const r = await hospital.post(`/fhir/${res.resourceType}`, res);
          expect(r.status, `${f}: ${r.text}`).to.equal(201);
          expect(r.headers.location).to.match(new RegExp(`/fhir/${res.resourceType}/[0-9a-f-]+/_history/1$`));
          expect(r.body.name ?? r.body.id).to.not.equal(undefined);
        }
      });

      it('refuses the JP Core Organization example as it is: it names another hospital (403)', async () => {
        const r = await hospital.post(
          '/fhir/Organization',
          jpCore('Organization-jp-organization-example-hospital.json'),
        );
        expect(r.status).to.equal(403);
        expect(r.body.issue[0].expression).to.deep.equal(['Organization.identifier[0]']);
      });

      it('conditional create on the business identifier never duplicates', async () => {
        const p = jpCore('Patient-jp-patient-example-1.json');
        const h = { 'if-none-exist': 'identifier=urn:oid:1.2.392.100495.20.3.51.11311234567|00000010' };
        const a = await hospital.post('/fhir/Patient', p, h);
        const b = await hospital.post('/fhir/Patient', p, h);
        expect([201, 200]).to.include(a.status);
        expect(b.status).to.equal(200);
        expect(b.body.id).to.equal(a.body.id);
      });

      it('a QuestionnaireResponse answering the form is stored as a document; the same content as the form endpoint', async () => {
        const { formToFhir } = await import('../src/engine/forms/translate.js');
        const { loadFormRegistry } = await import('../src/engine/forms/registry.js');
        const def = loadFormRegistry().get('shujii-ikensho')!;
        const p = fromHospital('unstable-no-consent');
        const qr = formToFhir(def, p, { now: '2026-11-23T10:00:00+09:00' }).questionnaireResponse;
        const r = await hospital.post('/fhir/QuestionnaireResponse', { ...qr, id: undefined });
        expect(r.status, r.text).to.equal(201);
        const again = await hospital.post('/forms/shujii-ikensho', p);
        expect(again.status).to.equal(200); // the same document: no duplicate
      });

      it('a QuestionnaireResponse with a wrong answer code gets 422 with the path', async () => {
        const { formToFhir } = await import('../src/engine/forms/translate.js');
        const { loadFormRegistry } = await import('../src/engine/forms/registry.js');
        const def = loadFormRegistry().get('shujii-ikensho')!;
        const qr: any = formToFhir(def, fromHospital('full', 'qr-bad'), {
          now: '2026-11-23T10:00:00+09:00',
        }).questionnaireResponse;
        const choice = qr.item.flatMap((g: any) => g.item ?? []).find((i: any) => i.answer?.[0]?.valueCoding);
        choice.answer[0].valueCoding.code = '99';
        const r = await hospital.post('/fhir/QuestionnaireResponse', qr);
        expect(r.status).to.equal(422);
        expect(r.body.issue.some((i: any) => /valueCoding/.test(i.expression?.[0] ?? ''))).to.equal(true);
      });

      it('a transaction is atomic: one bad entry and nothing is stored', async () => {
        const marker = `atomic-${Date.now()}`;
        const bundle = {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              fullUrl: 'urn:uuid:7f0c3e0a-1d0b-4c59-9a55-000000000001',
              resource: {
                resourceType: 'Patient',
                identifier: [{ system: 'urn:test', value: marker }],
                name: [{ text: '原子 太郎' }],
              },
              request: { method: 'POST', url: 'Patient' },
            },
            {
              resource: { resourceType: 'Practitioner', name: [{ text: 1234 }] },
              request: { method: 'POST', url: 'Practitioner' },
            },
          ],
        };
        const r = await hospital.post('/fhir', bundle);
        expect(r.status).to.be.within(400, 499);
        expect(r.body.issue.some((i: any) => (i.expression?.[0] ?? '').startsWith('Bundle.entry[1]'))).to.equal(true);
        const found = await hospital.get(`/fhir/Patient?identifier=urn:test|${marker}`);
        expect(found.body.total).to.equal(0);
      });

      it('a good transaction stores every entry and resolves urn:uuid references', async () => {
        const org = 'urn:uuid:7f0c3e0a-1d0b-4c59-9a55-0000000000a1';
        const bundle = {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              fullUrl: org,
              resource: { resourceType: 'Organization', name: '取引テスト病院' },
              request: { method: 'POST', url: 'Organization' },
            },
            {
              resource: {
                resourceType: 'Patient',
                name: [{ text: '参照 花子' }],
                managingOrganization: { reference: org },
              },
              request: { method: 'POST', url: 'Patient' },
            },
          ],
        };
        const r = await hospital.post('/fhir', bundle);
        expect(r.status, r.text).to.equal(200);
        expect(r.body.type).to.equal('transaction-response');
        const orgLoc = r.body.entry[0].response.location as string;
        const patLoc = r.body.entry[1].response.location as string;
        const patient = await hospital.get(`/fhir/${patLoc.split('/_history')[0]}`);
        expect(patient.body.managingOrganization.reference).to.equal(orgLoc.split('/_history')[0]);
      });
    });

    describe('operability', () => {
      it('health, readiness and Prometheus metrics', async () => {
        expect((await municipality.get('/healthz')).status).to.equal(200);
        const ready = await municipality.get('/readyz');
        expect(ready.body.status).to.equal('ready');
        const m = await municipality.get('/metrics');
        expect(m.text).to.match(
          /kaigo_gateway_http_requests_total\{method="POST",route="\/forms\/\{form\}",status="201"\} \d+/,
        );
        expect(m.text).to.match(/kaigo_gateway_documents_stored_total\{form="shujii-ikensho"\} \d+/);
      });

      it('logs are JSON lines without personal data', async () => {
        const lines = gw.logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines.some((l) => l.route === '/forms/{form}')).to.equal(true);
        const all = gw.logLines.join('\n');
        for (const secret of ['山田', '0001234567', '131011|', 'BEGIN', '昭和']) expect(all).to.not.include(secret);
      });
    });
  });
