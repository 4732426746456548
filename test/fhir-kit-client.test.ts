// A third-party FHIR client (fhir-kit-client 2.0.3) against the real gateway over mutual TLS: what an EHR vendor's
// integration would do. fhir-kit-client uses Node's global fetch; the client certificate goes in through an undici
// Agent passed as `requestOptions.dispatcher` (docs toolchain.md §5).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Client } from 'fhir-kit-client';
import type {
  Bundle,
  CapabilityStatement,
  DocumentReference,
  OperationOutcome,
  Organization,
  Patient,
  Practitioner,
  QuestionnaireResponse,
} from 'fhir/r4.js';
import { Agent } from 'undici';
import { isoWithOffset } from '../src/base/clock.js';
import { loadFormRegistry } from '../src/engine/forms/registry.js';
import { formToFhir } from '../src/engine/forms/translate.js';
import { JP_CORE_DIR } from './support/corpus.js';
import { addParty, sample, startTestGateway, type TestGateway } from './support/gateway.js';

const JP_PATIENT = join(JP_CORE_DIR, 'Patient-jp-patient-example-1.json');
const INSURED = 'http://kaigo-gateway.jp/fhir/IdSystem/ltci-insured-number';
const INSURER = 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber';
const HOSPITAL_CODE = '1311234567';

type FkcError = Error & { response?: { status: number; data: unknown } };

const registry = loadFormRegistry();
const shujii = registry.get('shujii-ikensho')!;

/** A sample as the test hospital would fill it in. */
function payload(name: string, changes: { documentId?: string; insuredNumber?: string } = {}): any {
  const p = sample(name);
  p.header.institution.code = HOSPITAL_CODE;
  if (changes.documentId !== undefined) p.header.documentId = changes.documentId;
  if (changes.insuredNumber !== undefined) p.header.insuredNumber = changes.insuredNumber;
  return p;
}

/** What `kaigo-gateway translate --to fhir` makes of a payload, reduced to its QuestionnaireResponse without an id. */
function questionnaireResponseOf(p: unknown): QuestionnaireResponse {
  const { id: _id, ...qr } = formToFhir(shujii, p, { now: isoWithOffset() }).questionnaireResponse;
  return qr as QuestionnaireResponse;
}

/** Calls `fn` expecting fhir-kit-client to throw an HTTP error; returns that error. */
async function rejection(fn: () => Promise<unknown>): Promise<FkcError> {
  try {
    await fn();
  } catch (e) {
    const err = e as FkcError;
    expect(err.response, String(err)).to.be.an('object');
    return err;
  }
  expect.fail('expected the call to be refused');
}

const statusOf = (result: unknown): number | undefined => Client.httpFor(result as never).response?.status;

describe('fhir-kit-client 2.0.3 against the gateway over mutual TLS', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  const agents: Agent[] = [];
  let hospital: Client;
  let municipality: Client;
  let otherMunicipality: Client;

  /** A fhir-kit-client presenting `<name>.crt` from the gateway's PKI. */
  const fhirClient = (name: string): Client => {
    const agent = new Agent({
      connect: {
        ca: readFileSync(join(gw.pkiDir, 'ca.crt')),
        cert: readFileSync(join(gw.pkiDir, `${name}.crt`)),
        key: readFileSync(join(gw.pkiDir, `${name}.key`)),
        servername: 'localhost',
      },
    });
    agents.push(agent);
    return new Client({ baseUrl: `${gw.url}/fhir`, requestOptions: { dispatcher: agent } as never });
  };

  before(async () => {
    gw = await startTestGateway();
    await addParty(gw, 'municipality-131029', { kind: 'municipality', code: '131029', name: '東京都中央区' });
    hospital = fhirClient('hospital');
    municipality = fhirClient('municipality');
    otherMunicipality = fhirClient('municipality-131029');
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await gw?.stop();
  });

  it('capabilityStatement(): FHIR 4.0.1, and DocumentReference can be searched by insured-number', async () => {
    const cs = (await municipality.capabilityStatement()) as unknown as CapabilityStatement;
    expect(cs.resourceType).to.equal('CapabilityStatement');
    expect(cs.fhirVersion).to.equal('4.0.1');
    const docRef = cs.rest?.[0]?.resource?.find((r) => r.type === 'DocumentReference');
    expect(docRef, 'DocumentReference in rest.resource').to.not.equal(undefined);
    const params = (docRef!.searchParam ?? []).map((p) => p.name);
    expect(params).to.include.members(['insured-number', 'insurer-number']);
  });

  it('create(): the JP Core Patient example gets a server id', async () => {
    const example = JSON.parse(readFileSync(JP_PATIENT, 'utf8')) as Patient;
    const created = (await hospital.create({ resourceType: 'Patient', body: example as never })) as unknown as Patient;
    expect(statusOf(created)).to.equal(201);
    expect(created.resourceType).to.equal('Patient');
    expect(created.id).to.be.a('string').and.not.equal('jp-patient-example-1');
    expect(created.meta?.versionId).to.be.a('string');
    expect(created.name?.[0]?.text).to.equal('山田 太郎');
    const back = (await hospital.read({ resourceType: 'Patient', id: created.id! })) as unknown as Patient;
    expect(back.id).to.equal(created.id);
  });

  describe('a 主治医意見書 submitted as a QuestionnaireResponse', () => {
    let qrId: string;
    let docRef: DocumentReference;

    it('create() of the QuestionnaireResponse from translate --to fhir → 201 with an id', async () => {
      const qr = questionnaireResponseOf(payload('full'));
      expect(qr.id).to.equal(undefined);
      const created = (await hospital.create({
        resourceType: 'QuestionnaireResponse',
        body: qr as never,
      })) as unknown as QuestionnaireResponse;
      expect(statusOf(created)).to.equal(201);
      expect(created.resourceType).to.equal('QuestionnaireResponse');
      expect(created.id).to.be.a('string').and.not.be.empty;
      qrId = created.id!;
    });

    it('search() by insured-number and insurer-number as the municipality finds exactly that document', async () => {
      expect(qrId, 'created above').to.be.a('string');
      const found = (await municipality.search({
        resourceType: 'DocumentReference',
        searchParams: { 'insured-number': `${INSURED}|0001234567`, 'insurer-number': `${INSURER}|131011` },
      })) as unknown as Bundle;
      expect(found.resourceType).to.equal('Bundle');
      expect(found.type).to.equal('searchset');
      expect(found.total).to.equal(1);
      expect(found.entry).to.have.length(1);
      docRef = found.entry![0]!.resource as DocumentReference;
      expect(docRef.resourceType).to.equal('DocumentReference');
      expect(docRef.subject?.identifier?.value).to.equal('0001234567');
    });

    it('read() of the Bundle named in content[0].attachment.url gives the document', async () => {
      expect(docRef, 'found above').to.be.an('object');
      const url = docRef.content[0]!.attachment.url!;
      const [type, id] = url.split('/');
      expect(type).to.equal('Bundle');
      const bundle = (await municipality.read({ resourceType: 'Bundle', id: id! })) as unknown as Bundle;
      expect(bundle.resourceType).to.equal('Bundle');
      expect(bundle.type).to.equal('document');
      expect(bundle.entry?.[0]?.resource?.resourceType).to.equal('Composition');
      const qr = bundle.entry?.find((e) => e.resource?.resourceType === 'QuestionnaireResponse')?.resource as
        QuestionnaireResponse | undefined;
      expect(qr?.id).to.equal(qrId);
    });

    it('another insurer (131029) gets 403 from read() of that DocumentReference', async () => {
      expect(docRef, 'found above').to.be.an('object');
      const err = await rejection(() => otherMunicipality.read({ resourceType: 'DocumentReference', id: docRef.id! }));
      expect(err.response!.status).to.equal(403);
      expect((err.response!.data as OperationOutcome).resourceType).to.equal('OperationOutcome');
      // …and its search does not find it either.
      const found = (await otherMunicipality.search({
        resourceType: 'DocumentReference',
        searchParams: { 'insured-number': `${INSURED}|0001234567` },
      })) as unknown as Bundle;
      expect(found.total).to.equal(0);
    });
  });

  describe('paging', () => {
    it('search() with _count=1 pages through several documents with nextPage()', async () => {
      const insured = '0005550001';
      for (const documentId of ['IKN-PAGE-1', 'IKN-PAGE-2', 'IKN-PAGE-3']) {
        const created = await hospital.create({
          resourceType: 'QuestionnaireResponse',
          body: questionnaireResponseOf(payload('full', { documentId, insuredNumber: insured })) as never,
        });
        expect(statusOf(created)).to.equal(201);
      }
      let page = (await municipality.search({
        resourceType: 'DocumentReference',
        searchParams: { 'insured-number': insured, _count: 1 },
      })) as unknown as Bundle;
      const seen: string[] = [];
      for (let pages = 0; page; pages++) {
        expect(pages, 'too many pages').to.be.below(10);
        expect(page.total).to.equal(3);
        expect(page.entry ?? []).to.have.length(1);
        seen.push(page.entry![0]!.resource!.id!);
        page = (await municipality.nextPage({ bundle: page as never })) as unknown as Bundle;
      }
      expect(seen).to.have.length(3);
      expect(new Set(seen).size).to.equal(3);
      const identifiers = [];
      for (const id of seen)
        identifiers.push(
          ((await municipality.read({ resourceType: 'DocumentReference', id })) as unknown as DocumentReference)
            .identifier?.[0]?.value,
        );
      expect(identifiers.sort()).to.deep.equal(
        ['IKN-PAGE-1', 'IKN-PAGE-2', 'IKN-PAGE-3'].map((d) => `shujii-ikensho:${HOSPITAL_CODE}:${d}`),
      );
    });
  });

  describe('transaction()', () => {
    const SYSTEM = 'urn:oid:1.2.392.100495.20.3.51.11311234567';
    const entries = (tag: string): Bundle['entry'] => [
      {
        fullUrl: 'urn:uuid:7a1f3c2e-0b7d-4a59-9d1e-3f0c2b6a8e01',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: SYSTEM, value: `${tag}-patient` }],
          name: [{ text: '佐藤 花子', family: '佐藤', given: ['花子'] }],
          gender: 'female',
          birthDate: '1941-04-02',
        } as Patient,
        request: { method: 'POST', url: 'Patient' },
      },
      {
        fullUrl: 'urn:uuid:7a1f3c2e-0b7d-4a59-9d1e-3f0c2b6a8e02',
        resource: {
          resourceType: 'Practitioner',
          identifier: [{ system: SYSTEM, value: `${tag}-practitioner` }],
          name: [{ text: '佐藤 一郎', family: '佐藤', given: ['一郎'] }],
        } as Practitioner,
        request: { method: 'POST', url: 'Practitioner' },
      },
      {
        fullUrl: 'urn:uuid:7a1f3c2e-0b7d-4a59-9d1e-3f0c2b6a8e03',
        resource: {
          resourceType: 'Organization',
          identifier: [{ system: SYSTEM, value: `${tag}-organization` }],
          name: 'さくら内科クリニック',
        } as Organization,
        request: { method: 'POST', url: 'Organization' },
      },
    ];
    const searchTotal = async (type: string, value: string): Promise<number> =>
      (
        (await hospital.search({
          resourceType: type,
          searchParams: { identifier: `${SYSTEM}|${value}` },
        })) as unknown as Bundle
      ).total!;

    it('a Patient (urn:uuid fullUrl), a Practitioner and an Organization → transaction-response with 3 × 201', async () => {
      const body: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries('tx-ok') };
      const out = (await hospital.transaction({ body: body as never })) as unknown as Bundle;
      expect(statusOf(out)).to.equal(200);
      expect(out.resourceType).to.equal('Bundle');
      expect(out.type).to.equal('transaction-response');
      expect(out.entry).to.have.length(3);
      expect(out.entry!.map((e) => e.response?.status)).to.deep.equal(['201 Created', '201 Created', '201 Created']);
      expect(out.entry!.map((e) => e.response?.location?.split('/')[0])).to.deep.equal([
        'Patient',
        'Practitioner',
        'Organization',
      ]);
      const patientLocation = out.entry![0]!.response!.location!;
      const patient = (await hospital.read({
        resourceType: 'Patient',
        id: patientLocation.split('/')[1]!,
      })) as unknown as Patient;
      expect(patient.identifier?.[0]?.value).to.equal('tx-ok-patient');
      expect(await searchTotal('Patient', 'tx-ok-patient')).to.equal(1);
      expect(await searchTotal('Practitioner', 'tx-ok-practitioner')).to.equal(1);
      expect(await searchTotal('Organization', 'tx-ok-organization')).to.equal(1);
    });

    it('one invalid entry: the client throws with a 4xx and none of the entries is stored', async () => {
      const bad = entries('tx-bad')!;
      // A fourth entry, processed after the three good ones: a birthDate that is not a FHIR date.
      bad.push({
        fullUrl: 'urn:uuid:7a1f3c2e-0b7d-4a59-9d1e-3f0c2b6a8e04',
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: SYSTEM, value: 'tx-bad-patient-2' }],
          birthDate: '1941/04/02',
        } as Patient,
        request: { method: 'POST', url: 'Patient' },
      });
      const body: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: bad };
      const err = await rejection(() => hospital.transaction({ body: body as never }));
      expect(err.response!.status).to.be.within(400, 499);
      const outcome = err.response!.data as OperationOutcome;
      expect(outcome.resourceType).to.equal('OperationOutcome');
      expect(JSON.stringify(outcome)).to.match(/entry\[3\]/);
      expect(await searchTotal('Patient', 'tx-bad-patient')).to.equal(0);
      expect(await searchTotal('Practitioner', 'tx-bad-practitioner')).to.equal(0);
      expect(await searchTotal('Organization', 'tx-bad-organization')).to.equal(0);
      expect(await searchTotal('Patient', 'tx-bad-patient-2')).to.equal(0);
    });
  });
});
