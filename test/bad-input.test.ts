// Bad input of every shape gets a 4xx OperationOutcome — never a 5xx, a hang or a crash — and nothing is stored.
import { expect } from 'chai';
import { request } from 'undici';
import { startTestGateway, type Client, type TestGateway } from './support/gateway.js';

describe('bad input never gives a 5xx', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let hospital: Client;
  let office: Client;
  before(async () => {
    gw = await startTestGateway();
    hospital = gw.client('hospital');
    office = gw.client('care-office');
  });
  after(async () => gw.stop());

  const json = (v: unknown): string => JSON.stringify(v);
  const cases: Array<[string, string, string, string]> = [
    ['POST', '/forms/shujii-ikensho', '[]', 'application/json'],
    ['POST', '/forms/shujii-ikensho', '"just a string"', 'application/json'],
    ['POST', '/forms/shujii-ikensho', 'null', 'application/json'],
    ['POST', '/forms/shujii-ikensho', '{"header": {"applicant": []}}', 'application/json'],
    [
      'POST',
      '/forms/shujii-ikensho',
      json({ header: { recordDate: { $path: 'x' }, insurerNumber: 131011 } }),
      'application/json',
    ],
    [
      'POST',
      '/forms/shujii-ikensho',
      '{"header": {"a": ' + '['.repeat(2000) + ']'.repeat(2000) + '}}',
      'application/json',
    ],
    ['POST', '/forms/shujii-ikensho', '<xml/>', 'application/xml'],
    ['POST', '/forms/shujii-ikensho', '\u0000\u0001\u0002', 'application/json'],
    ['POST', '/fhir', '{}', 'application/fhir+json'],
    ['POST', '/fhir', json({ resourceType: 'Bundle', type: 'transaction', entry: 'nope' }), 'application/fhir+json'],
    [
      'POST',
      '/fhir',
      json({ resourceType: 'Bundle', type: 'transaction', entry: [null, 1, 'x'] }),
      'application/fhir+json',
    ],
    [
      'POST',
      '/fhir',
      json({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'DELETE', url: 'Patient/1' } }],
      }),
      'application/fhir+json',
    ],
    ['POST', '/fhir/Patient', json({ resourceType: 'Observation' }), 'application/fhir+json'],
    [
      'POST',
      '/fhir/Patient',
      json({ resourceType: 'Patient', birthDate: 19400301, name: 'x' }),
      'application/fhir+json',
    ],
    ['POST', '/fhir/DocumentReference', json({ resourceType: 'DocumentReference' }), 'application/fhir+json'],
    [
      'POST',
      '/fhir/QuestionnaireResponse',
      json({ resourceType: 'QuestionnaireResponse', questionnaire: 'http://example.org/Q' }),
      'application/fhir+json',
    ],
    [
      'POST',
      '/fhir/QuestionnaireResponse',
      json({
        resourceType: 'QuestionnaireResponse',
        questionnaire: 'http://kaigo-gateway.jp/fhir/Questionnaire/shujii-ikensho|1.0.0',
        status: 'completed',
        item: [{ linkId: 'nope', answer: [{ valueString: 'x' }] }],
      }),
      'application/fhir+json',
    ],
    ['GET', '/fhir/DocumentReference?_count=-1', '', ''],
    ['GET', '/fhir/DocumentReference?date=yesterday', '', ''],
    ['GET', '/fhir/DocumentReference?_sort=name', '', ''],
    ['GET', '/fhir/NoSuchType/1', '', ''],
    ['GET', '/fhir/Patient/' + 'x'.repeat(200), '', ''],
    ['GET', '/forms/shujii-ikensho/not-a-document', '', ''],
    ['GET', '/%E0%A4%A', '', ''],
    ['DELETE', '/fhir/Patient/1', '', ''],
    [
      'PUT',
      '/careplan-csv/UP1KYO_0300000100_43_0300000005_11_20191025200201.CSV',
      '\u00ff\u00fe garbage',
      'text/csv; charset=Shift_JIS',
    ],
    ['PUT', '/careplan-csv/not-a-standard-name.csv', 'a,b', 'text/csv; charset=Shift_JIS'],
  ];

  for (const [method, path, body, type] of cases) {
    it(`${method} ${path.slice(0, 60)} ${body.slice(0, 40)}`, async () => {
      const before = (await hospital.get('/fhir/DocumentReference?_count=1')).body.total as number;
      const client = path.startsWith('/careplan-csv') ? office : hospital;
      const res = await request(`${gw.url}${path}`, {
        method: method as 'GET',
        dispatcher: client.agent,
        headers: type ? { 'content-type': type } : {},
        ...(method !== 'GET' ? { body } : {}),
      });
      const text = await res.body.text();
      expect(res.statusCode, text.slice(0, 300)).to.be.within(400, 499);
      expect((JSON.parse(text) as { resourceType?: string }).resourceType).to.equal('OperationOutcome');
      expect((await hospital.get('/fhir/DocumentReference?_count=1')).body.total).to.equal(before);
    });
  }

  it('a body over the 10 MB limit is 413 too-costly', async () => {
    const res = await request(`${gw.url}/forms/shujii-ikensho`, {
      method: 'POST',
      dispatcher: hospital.agent,
      headers: { 'content-type': 'application/json' },
      body: `{"x":"${'あ'.repeat(4_000_000)}"}`,
    });
    const body = JSON.parse(await res.body.text()) as { resourceType: string; issue: Array<{ code: string }> };
    expect(res.statusCode).to.equal(413);
    expect(body.resourceType).to.equal('OperationOutcome');
    expect(body.issue[0]!.code).to.equal('too-costly');
  });

  it('the server is still healthy afterwards', async () => {
    expect((await hospital.get('/readyz')).status).to.equal(200);
  });
});
