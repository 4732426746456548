// POST /fhir/{type} of the caller's supporting resources, as R4 and the gateway require: validated content,
// references of an R4 shape that resolve, security labels and tags kept, an Organization named only by the caller's
// own code, 404 for a type the gateway does not create, and Location from the public URL (never the Host header).
import { expect } from 'chai';
import { rawExchange, startTestGateway, type Client, type TestGateway } from './support/gateway.js';

const HOSPITAL_CODE = '1311234567';
const INSTITUTION = 'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no';
const PUBLIC_URL = 'https://kaigo-gw.example.jp:9443';

describe('FHIR create: what R4 and the gateway require of a supporting resource', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let hospital: Client;
  let municipality: Client;
  before(async () => {
    gw = await startTestGateway({ config: { workers: 0, publicUrl: PUBLIC_URL } });
    hospital = gw.client('hospital');
    municipality = gw.client('municipality');
  });
  after(async () => gw.stop());

  const expressions = (r: { body: any }): string[] => (r.body.issue ?? []).flatMap((i: any) => i.expression ?? []);

  describe('content', () => {
    it('gender "x" is not in the required ValueSet: 422 at Patient.gender, nothing stored', async () => {
      const r = await hospital.post('/fhir/Patient', { resourceType: 'Patient', gender: 'x', name: [{ text: 'gx' }] });
      expect(r.status).to.equal(422);
      expect(expressions(r)).to.include('Patient.gender');
    });

    for (const ref of [
      'Organization/../../etc/passwd',
      'Organization/..',
      '../Organization/1',
      'Organization/ 1',
      'javascript:alert(1)',
      'http://',
      'urn:uuid:7f0c3e0a-1d0b-4c59-9a55-000000000001',
    ]) {
      it(`reference ${JSON.stringify(ref)} is refused with its path`, async () => {
        const r = await hospital.post('/fhir/Patient', {
          resourceType: 'Patient',
          managingOrganization: { reference: ref },
        });
        expect(r.status, r.text).to.equal(422);
        expect(expressions(r)).to.include('Patient.managingOrganization.reference');
      });
    }

    it('a well-formed reference to nothing stored: 400 not-found at its path', async () => {
      const r = await hospital.post('/fhir/Patient', {
        resourceType: 'Patient',
        managingOrganization: { reference: 'Organization/no-such-organization' },
      });
      expect(r.status).to.equal(400);
      expect(r.body.issue[0].code).to.equal('not-found');
      expect(expressions(r)).to.deep.equal(['Patient.managingOrganization.reference']);
    });

    it('a reference to a stored resource, and an absolute URL, are stored as sent', async () => {
      const org = await hospital.post('/fhir/Organization', { resourceType: 'Organization', name: '参照先' });
      expect(org.status).to.equal(201);
      const r = await hospital.post('/fhir/Patient', {
        resourceType: 'Patient',
        managingOrganization: { reference: `Organization/${org.body.id}` },
        generalPractitioner: [{ reference: 'https://other.example.jp/fhir/Practitioner/123' }],
      });
      expect(r.status, r.text).to.equal(201);
      expect(r.body.managingOrganization.reference).to.equal(`Organization/${org.body.id}`);
    });

    it('meta.security and meta.tag are kept; versionId and lastUpdated are the server’s', async () => {
      const meta = {
        versionId: '99',
        lastUpdated: '2000-01-01T00:00:00Z',
        security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
        tag: [{ system: 'urn:kaigo-test:tag', code: 'imported' }],
      };
      const r = await hospital.post('/fhir/Patient', { resourceType: 'Patient', meta, name: [{ text: 'タグ' }] });
      expect(r.status, r.text).to.equal(201);
      const read = await hospital.get(`/fhir/Patient/${r.body.id}`);
      expect(read.body.meta.security).to.deep.equal(meta.security);
      expect(read.body.meta.tag).to.deep.equal(meta.tag);
      expect(read.body.meta.versionId).to.equal('1');
      expect(read.body.meta.lastUpdated).to.not.equal(meta.lastUpdated);
    });
  });

  describe('an organisation names only itself by its own code', () => {
    const org = (system: string, value: string, extra: object = {}): object => ({
      resourceType: 'Organization',
      name: '名乗り',
      identifier: [{ system, value }],
      ...extra,
    });

    it('a hospital creating an Organization with another 医療機関コード: 403 at the identifier', async () => {
      const r = await hospital.post('/fhir/Organization', org(INSTITUTION, '1319876543'));
      expect(r.status).to.equal(403);
      expect(expressions(r)).to.deep.equal(['Organization.identifier[0]']);
    });

    it('…or another 医療機関番号 in the JP Core extension: 403 at the extension', async () => {
      const r = await hospital.post(
        '/fhir/Organization',
        org(INSTITUTION, HOSPITAL_CODE, {
          extension: [
            {
              url: 'http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo',
              valueIdentifier: {
                system: 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID',
                value: '9876543',
              },
            },
          ],
        }),
      );
      expect(r.status).to.equal(403);
      expect(expressions(r)).to.deep.equal(['Organization.extension[0].valueIdentifier']);
    });

    it('…or a 保険者番号: 403 (a hospital is not an insurer)', async () => {
      const r = await hospital.post(
        '/fhir/Organization',
        org('http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber', '131011'),
      );
      expect(r.status).to.equal(403);
    });

    it('a municipality naming another 保険者番号: 403', async () => {
      const r = await municipality.post(
        '/fhir/Organization',
        org('http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber', '131029'),
      );
      expect(r.status).to.equal(403);
    });

    it('the hospital with its own codes: 201', async () => {
      const r = await hospital.post(
        '/fhir/Organization',
        org(INSTITUTION, HOSPITAL_CODE, {
          extension: [
            {
              url: 'http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo',
              valueIdentifier: {
                system: 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID',
                value: '1234567',
              },
            },
          ],
        }),
      );
      expect(r.status, r.text).to.equal(201);
    });

    it('the same check holds inside a transaction', async () => {
      const r = await hospital.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: org(INSTITUTION, '1319876543'), request: { method: 'POST', url: 'Organization' } }],
      });
      expect(r.status).to.equal(403);
      expect(expressions(r)).to.deep.equal(['Bundle.entry[0].resource.identifier[0]']);
    });
  });

  describe('types', () => {
    for (const type of ['Observation', 'DocumentReference', 'Bundle', 'NoSuchType']) {
      it(`POST /fhir/${type}: 404, as R4 answers a create of an unsupported type`, async () => {
        const r = await hospital.post(`/fhir/${type}`, { resourceType: type });
        expect(r.status, r.text).to.equal(404);
        expect(r.body.issue[0].code).to.equal('not-supported');
      });
    }

    it('the CapabilityStatement offers create only where it is supported', async () => {
      const r = await hospital.get('/fhir/metadata');
      const creatable = r.body.rest[0].resource
        .filter((x: any) => x.interaction.some((i: any) => i.code === 'create'))
        .map((x: any) => x.type)
        .sort();
      expect(creatable).to.deep.equal(['Organization', 'Patient', 'Practitioner', 'QuestionnaireResponse']);
    });
  });

  describe('links', () => {
    it('Location and search links come from the public URL, whatever the Host header says', async () => {
      const body = JSON.stringify({ resourceType: 'Patient', name: [{ text: 'ホスト' }] });
      const post = await rawExchange(gw, 'hospital', [
        `POST /fhir/Patient HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/fhir+json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      ]);
      expect(post.text).to.match(/^HTTP\/1\.1 201 /);
      expect(post.text).to.match(new RegExp(`\r\nLocation: ${PUBLIC_URL}/fhir/Patient/[0-9a-f-]+/_history/1\r\n`, 'i'));
      const search = await rawExchange(gw, 'hospital', [
        'GET /fhir/Patient?_count=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      ]);
      const bundle = JSON.parse(search.text.slice(search.text.indexOf('\r\n\r\n') + 4)) as any;
      expect(bundle.link.length).to.be.greaterThan(0);
      for (const l of bundle.link) expect(l.url.startsWith(`${PUBLIC_URL}/fhir/`), l.url).to.equal(true);
      for (const e of bundle.entry) expect(e.fullUrl.startsWith(`${PUBLIC_URL}/fhir/`)).to.equal(true);
      expect(post.text + search.text).to.not.include('evil.example');
    });
  });
});
