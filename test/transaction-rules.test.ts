// Transaction and batch by the R4 rules: urn:uuid references resolve to any entry, earlier or later, and every
// reference in what was stored resolves; a urn:uuid that names no entry is a 400 with its path; conditional creates
// resolve before ids are assigned; a batch may be conditional, so a blind retry duplicates nothing.
import { expect } from 'chai';
import { formToFhir } from '../src/engine/forms/translate.js';
import { loadFormRegistry } from '../src/engine/forms/registry.js';
import { sample, startTestGateway, type Client, type TestGateway } from './support/gateway.js';

const uuid = (n: number): string => `urn:uuid:7f0c3e0a-1d0b-4c59-9a55-${String(n).padStart(12, '0')}`;
const MARK = 'urn:kaigo-test:tx';

describe('transaction and batch follow the R4 rules', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let hospital: Client;
  before(async () => {
    gw = await startTestGateway({ config: { workers: 0 } });
    hospital = gw.client('hospital');
  });
  after(async () => gw.stop());

  const total = async (type: string, value: string): Promise<number> =>
    (await hospital.get(`/fhir/${type}?identifier=${MARK}|${value}`)).body.total;
  const idOf = (location: string): string => location.split('/')[1]!;

  describe('transaction', () => {
    it('a reference to a LATER entry resolves to the id that entry is stored under', async () => {
      const r = await hospital.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: uuid(1),
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: MARK, value: 'forward-patient' }],
              managingOrganization: { reference: uuid(2) },
              generalPractitioner: [{ reference: uuid(3) }],
            },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: uuid(2),
            resource: { resourceType: 'Organization', name: '後方の病院', partOf: { reference: uuid(4) } },
            request: { method: 'POST', url: 'Organization' },
          },
          {
            fullUrl: uuid(3),
            resource: { resourceType: 'Practitioner', name: [{ text: '前方 医師' }] },
            request: { method: 'POST', url: 'Practitioner' },
          },
          {
            fullUrl: uuid(4),
            resource: { resourceType: 'Organization', name: '親法人', identifier: [{ system: MARK, value: 'parent' }] },
            request: { method: 'POST', url: 'Organization' },
          },
        ],
      });
      expect(r.status, r.text).to.equal(200);
      const [patientAt, orgAt, practitionerAt, parentAt] = r.body.entry.map((e: any) => e.response.location as string);
      const patient = (await hospital.get(`/fhir/Patient/${idOf(patientAt)}`)).body;
      expect(patient.managingOrganization.reference).to.equal(`Organization/${idOf(orgAt)}`);
      expect(patient.generalPractitioner[0].reference).to.equal(`Practitioner/${idOf(practitionerAt)}`);
      const org = await hospital.get(`/fhir/Organization/${idOf(orgAt)}`);
      expect(org.status).to.equal(200);
      expect(org.body.partOf.reference).to.equal(`Organization/${idOf(parentAt)}`);
      expect((await hospital.get(`/fhir/Practitioner/${idOf(practitionerAt)}`)).status).to.equal(200);
      expect(r.body.entry[0].fullUrl).to.match(new RegExp(`/fhir/Patient/${idOf(patientAt)}$`));
    });

    it('a urn:uuid that names no entry: 400 with its path, and nothing is stored', async () => {
      const r = await hospital.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: {
              resourceType: 'Organization',
              name: 'x',
              identifier: [{ system: MARK, value: 'dangling-org' }],
            },
            request: { method: 'POST', url: 'Organization' },
          },
          {
            resource: { resourceType: 'Patient', managingOrganization: { reference: uuid(99) } },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      });
      expect(r.status).to.equal(400);
      expect(r.body.issue[0].expression).to.deep.equal(['Bundle.entry[1].resource.managingOrganization.reference']);
      expect(await total('Organization', 'dangling-org')).to.equal(0);
    });

    it('a relative reference to nothing stored: 400 with its path', async () => {
      const r = await hospital.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', managingOrganization: { reference: 'Organization/missing' } },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      });
      expect(r.status).to.equal(400);
      expect(r.body.issue[0].expression).to.deep.equal(['Bundle.entry[0].resource.managingOrganization.reference']);
    });

    it('a conditional create resolves to the existing resource before ids are assigned; references follow it', async () => {
      const first = await hospital.post('/fhir/Organization', {
        resourceType: 'Organization',
        name: '既存',
        identifier: [{ system: MARK, value: 'existing-org' }],
      });
      expect(first.status).to.equal(201);
      const r = await hospital.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', managingOrganization: { reference: uuid(11) } },
            request: { method: 'POST', url: 'Patient' },
          },
          {
            fullUrl: uuid(11),
            resource: {
              resourceType: 'Organization',
              name: '既存',
              identifier: [{ system: MARK, value: 'existing-org' }],
            },
            request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${MARK}|existing-org` },
          },
        ],
      });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.entry.map((e: any) => e.response.status)).to.deep.equal(['201 Created', '200 OK']);
      expect(idOf(r.body.entry[1].response.location)).to.equal(first.body.id);
      const patient = (await hospital.get(`/fhir/Patient/${idOf(r.body.entry[0].response.location)}`)).body;
      expect(patient.managingOrganization.reference).to.equal(`Organization/${first.body.id}`);
      expect(await total('Organization', 'existing-org')).to.equal(1);
    });

    it('two entries on the same condition overlap: 400', async () => {
      const entry = {
        resource: { resourceType: 'Organization', name: 'y', identifier: [{ system: MARK, value: 'twice' }] },
        request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${MARK}|twice` },
      };
      const r = await hospital.post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [entry, entry] });
      expect(r.status).to.equal(400);
      expect(r.body.issue[0].expression).to.deep.equal(['Bundle.entry[1].request.ifNoneExist']);
      expect(await total('Organization', 'twice')).to.equal(0);
    });

    it('two entries with one fullUrl: 400', async () => {
      const entry = {
        fullUrl: uuid(21),
        resource: { resourceType: 'Patient' },
        request: { method: 'POST', url: 'Patient' },
      };
      const r = await hospital.post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [entry, entry] });
      expect(r.status).to.equal(400);
      expect(r.body.issue[0].expression).to.deep.equal(['Bundle.entry[1].fullUrl']);
    });
  });

  describe('batch', () => {
    const def = loadFormRegistry().get('shujii-ikensho')!;
    const payload = sample('full');
    payload.header.institution.code = '1311234567';
    payload.header.documentId = 'batch-retry';
    const { id: _id, ...qr } = formToFhir(def, payload, { now: '2026-11-23T10:00:00+09:00' }).questionnaireResponse;
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          resource: {
            resourceType: 'Patient',
            identifier: [{ system: MARK, value: 'batch-patient' }],
            gender: 'female',
          },
          request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MARK}|batch-patient` },
        },
        {
          resource: {
            resourceType: 'Organization',
            name: 'バッチ',
            identifier: [{ system: MARK, value: 'batch-org' }],
          },
          request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${MARK}|batch-org` },
        },
        { resource: qr, request: { method: 'POST', url: 'QuestionnaireResponse' } },
      ],
    };
    let firstIds: string[];

    it('a conditional batch stores each entry once', async () => {
      const r = await hospital.post('/fhir', batch);
      expect(r.status, r.text).to.equal(200);
      expect(r.body.type).to.equal('batch-response');
      expect(r.body.entry.map((e: any) => e.response.status)).to.deep.equal([
        '201 Created',
        '201 Created',
        '201 Created',
      ]);
      firstIds = r.body.entry.map((e: any) => idOf(e.response.location));
    });

    it('a blind retry of the same batch duplicates nothing: every entry 200 with the same id', async () => {
      const documentsBefore = (await hospital.get('/fhir/DocumentReference?_count=1')).body.total;
      const r = await hospital.post('/fhir', batch);
      expect(r.status).to.equal(200);
      expect(r.body.entry.map((e: any) => e.response.status)).to.deep.equal(['200 OK', '200 OK', '200 OK']);
      expect(r.body.entry.map((e: any) => idOf(e.response.location))).to.deep.equal(firstIds);
      expect(await total('Patient', 'batch-patient')).to.equal(1);
      expect(await total('Organization', 'batch-org')).to.equal(1);
      expect((await hospital.get('/fhir/DocumentReference?_count=1')).body.total).to.equal(documentsBefore);
    });

    it('two entries of one batch on the same condition make one resource (the entries run side by side)', async () => {
      const entry = {
        resource: { resourceType: 'Organization', name: 'w', identifier: [{ system: MARK, value: 'batch-twice' }] },
        request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${MARK}|batch-twice` },
      };
      const r = await hospital.post('/fhir', { resourceType: 'Bundle', type: 'batch', entry: [entry, entry, entry] });
      expect(r.body.entry.map((e: any) => e.response.status).sort()).to.deep.equal(['200 OK', '200 OK', '201 Created']);
      expect(new Set(r.body.entry.map((e: any) => idOf(e.response.location))).size).to.equal(1);
      expect(await total('Organization', 'batch-twice')).to.equal(1);
    });

    it('an entry referencing another batch entry is refused alone (R4: non-conformant); the others are stored', async () => {
      const r = await hospital.post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            fullUrl: uuid(31),
            resource: { resourceType: 'Organization', name: 'z', identifier: [{ system: MARK, value: 'batch-ok' }] },
            request: { method: 'POST', url: 'Organization' },
          },
          {
            resource: { resourceType: 'Patient', managingOrganization: { reference: uuid(31) } },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      });
      expect(r.status).to.equal(200);
      expect(r.body.entry[0].response.status).to.equal('201 Created');
      expect(r.body.entry[1].response.status).to.equal('422');
      expect(r.body.entry[1].response.outcome.issue[0].expression).to.deep.equal([
        'Bundle.entry[1].resource.managingOrganization.reference',
      ]);
      expect(await total('Organization', 'batch-ok')).to.equal(1);
    });
  });
});
