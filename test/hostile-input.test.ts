// What a hostile client found, each now refused before it costs anything: a body of the wrong media type (415,
// not interpreted), a body over its route's byte limit (413), JSON nested too deep (400) or naming a prototype member
// (400), too many Bundle entries (413); and no OperationOutcome lists more than the configured number of issues.
import { expect } from 'chai';
import { request } from 'undici';
import { startTestGateway, type Client, type TestGateway } from './support/gateway.js';

describe('hostile input is refused before it costs anything', function () {
  this.timeout(60_000);
  let gw: TestGateway;
  let hospital: Client;
  let office: Client;
  before(async () => {
    gw = await startTestGateway({
      config: {
        workers: 0,
        limits: { bodyBytes: { resource: 64 * 1024, search: 4096 }, jsonDepth: 32, bundleEntries: 20 },
      },
    });
    hospital = gw.client('hospital');
    office = gw.client('care-office');
  });
  after(async () => gw.stop());

  const send = async (
    client: Client,
    method: string,
    path: string,
    body: string | Buffer | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string; body: any; ms: number; headers: Record<string, unknown> }> => {
    const t = performance.now();
    const res = await request(`${gw.url}${path}`, {
      method: method as 'POST',
      dispatcher: client.agent,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, text, body: parsed, ms: performance.now() - t, headers: res.headers };
  };
  const issues = (r: { body: any }): Array<{ code: string; diagnostics: string; expression?: string[] }> =>
    r.body?.issue ?? [];

  describe('each endpoint takes only its media types (415 before the body is interpreted)', () => {
    const csvMegabyte = Buffer.alloc(1024 * 1024, 'a,b,c\r\n');
    for (const [path, type] of [
      ['/fhir/DocumentReference/_search', 'text/csv'],
      ['/forms/shujii-ikensho', 'text/csv'],
      ['/fhir', 'text/csv; charset=Shift_JIS'],
      ['/fhir/Patient', 'application/xml'],
      ['/forms/shujii-ikensho', 'text/plain'],
      ['/fhir/Patient', 'application/fhir+json; charset=latin1'],
      ['/fhir/DocumentReference/_search', 'application/json'],
    ] as const) {
      it(`POST ${path} as ${type}: 415, a small OperationOutcome, at once`, async () => {
        const r = await send(hospital, 'POST', path, csvMegabyte, { 'content-type': type });
        expect(r.status, r.text).to.equal(415);
        expect(r.body.resourceType).to.equal('OperationOutcome');
        expect(issues(r)[0]!.code).to.equal('not-supported');
        expect(issues(r)[0]!.expression).to.deep.equal(['Content-Type']);
        expect(r.text.length).to.be.below(1000);
        expect(r.ms).to.be.below(2000);
      });
    }

    it('a body without a Content-Type: 415', async () => {
      const r = await send(hospital, 'POST', '/fhir/Patient', '{"resourceType":"Patient"}', {});
      expect(r.status).to.equal(415);
    });

    it('a compressed body: 415 naming Content-Encoding', async () => {
      const r = await send(hospital, 'POST', '/fhir/Patient', 'x', {
        'content-type': 'application/fhir+json',
        'content-encoding': 'gzip',
      });
      expect(r.status).to.equal(415);
      expect(issues(r)[0]!.expression).to.deep.equal(['Content-Encoding']);
    });

    for (const type of ['text/csv', 'text/csv; charset=utf-8', 'application/octet-stream']) {
      it(`PUT a care-plan CSV as ${type}: 415 (only text/csv; charset=Shift_JIS)`, async () => {
        const r = await send(
          office,
          'PUT',
          '/careplan-csv/UPPLAN_202405_1370000018_43_1371000009_15_20240425120000.CSV',
          'a,b',
          {
            'content-type': type,
          },
        );
        expect(r.status, r.text).to.equal(415);
      });
    }

    it('the JSON endpoints take application/json and application/fhir+json alike, with or without charset', async () => {
      for (const type of [
        'application/json',
        'application/fhir+json; charset=UTF-8',
        'application/fhir+json;charset="utf-8"',
      ]) {
        const r = await send(
          hospital,
          'POST',
          '/fhir/Patient',
          JSON.stringify({ resourceType: 'Patient', gender: 'male' }),
          {
            'content-type': type,
          },
        );
        expect(r.status, `${type}: ${r.text}`).to.equal(201);
      }
    });

    it('a form-encoded search works as before', async () => {
      const r = await send(hospital, 'POST', '/fhir/Patient/_search', '_count=1', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.resourceType).to.equal('Bundle');
    });
  });

  describe('limits per route, each with its own 4xx', () => {
    it('a body over the route limit: 413 too-costly, before it is parsed', async () => {
      const big = JSON.stringify({ resourceType: 'Patient', name: [{ text: 'x'.repeat(70 * 1024) }] });
      const r = await send(hospital, 'POST', '/fhir/Patient', big, { 'content-type': 'application/fhir+json' });
      expect(r.status).to.equal(413);
      expect(issues(r)[0]!.code).to.equal('too-costly');
    });

    it('a refused body of megabytes is read and thrown away, so the client hears the answer (no reset)', async () => {
      const r = await send(
        hospital,
        'POST',
        '/fhir/DocumentReference/_search',
        Buffer.alloc(6 * 1024 * 1024, 'a,b\r\n'),
        {
          'content-type': 'text/csv',
        },
      );
      expect(r.status).to.equal(415);
      const again = await send(hospital, 'GET', '/fhir/metadata', undefined, {});
      expect(again.status).to.equal(200);
    });

    it('the same size is fine where the limit is larger (a Bundle)', async () => {
      const r = await send(
        hospital,
        'POST',
        '/fhir',
        JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [], padding: 'x'.repeat(70 * 1024) }),
        { 'content-type': 'application/fhir+json' },
      );
      expect(r.status).to.not.equal(413);
    });

    it('a form-encoded search over its limit: 413', async () => {
      const r = await send(hospital, 'POST', '/fhir/Patient/_search', `name=${'a'.repeat(5000)}`, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(r.status).to.equal(413);
    });

    it('JSON deeper than the limit: 400 too-costly with the path where it goes too deep', async () => {
      let nested = '1';
      for (let i = 0; i < 40; i++) nested = `{"a":${nested}}`;
      const r = await send(hospital, 'POST', '/fhir/Patient', `{"resourceType":"Patient","extension":[${nested}]}`, {
        'content-type': 'application/fhir+json',
      });
      expect(r.status).to.equal(400);
      expect(issues(r)[0]!.code).to.equal('too-costly');
      expect(issues(r)[0]!.expression![0]).to.match(/^Patient\.extension\[0\](\.a)+$/);
    });

    it('JSON 100,000 levels deep is refused as fast as any other', async () => {
      const r = await send(hospital, 'POST', '/forms/shujii-ikensho', '['.repeat(100_000) + ']'.repeat(100_000), {
        'content-type': 'application/json',
      });
      expect(r.status).to.equal(400);
      expect(r.ms).to.be.below(1000);
    });

    it('more Bundle entries than the limit: 413 at Bundle.entry, nothing processed', async () => {
      const entry = Array.from({ length: 21 }, () => ({
        resource: { resourceType: 'Patient' },
        request: { method: 'POST', url: 'Patient' },
      }));
      const r = await send(
        hospital,
        'POST',
        '/fhir',
        JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry }),
        {
          'content-type': 'application/fhir+json',
        },
      );
      expect(r.status).to.equal(413);
      expect(issues(r)[0]!.expression).to.deep.equal(['Bundle.entry']);
    });
  });

  describe('no member name that makes prototype trouble', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      it(`"${name}" inside a FHIR resource: 400 with its path`, async () => {
        const r = await send(
          hospital,
          'POST',
          '/fhir/Patient',
          `{"resourceType":"Patient","name":[{"text":"x","${name}":{"polluted":true}}]}`,
          { 'content-type': 'application/fhir+json' },
        );
        expect(r.status, r.text).to.equal(400);
        expect(issues(r)[0]!.expression).to.deep.equal([`Patient.name[0].${name}`]);
      });
    }

    it('an escaped "\\u005f_proto__" in a care-form payload: 400 with its dot path', async () => {
      const r = await send(hospital, 'POST', '/forms/shujii-ikensho', '{"header":{"\\u005f_proto__":{"x":1}}}', {
        'content-type': 'application/json',
      });
      expect(r.status).to.equal(400);
      expect(issues(r)[0]!.expression).to.deep.equal(['header.__proto__']);
    });

    it('a form-encoded search parameter named __proto__: 400', async () => {
      const r = await send(hospital, 'POST', '/fhir/Patient/_search', '__proto__=1', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(r.status).to.equal(400);
    });
  });

  describe('bytes that are not what they claim', () => {
    it('invalid UTF-8 in a JSON body: 400', async () => {
      const r = await send(
        hospital,
        'POST',
        '/fhir/Patient',
        Buffer.concat([
          Buffer.from('{"resourceType":"Patient","name":[{"text":"'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}]}'),
        ]),
        { 'content-type': 'application/fhir+json' },
      );
      expect(r.status).to.equal(400);
      expect(issues(r)[0]!.diagnostics).to.match(/UTF-8/);
    });

    it('invalid percent-encoding in a search form: 400', async () => {
      const r = await send(hospital, 'POST', '/fhir/Patient/_search', 'name=%E0%A4%A', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(r.status).to.equal(400);
    });
  });

  describe('an OperationOutcome lists at most the configured number of issues', () => {
    it('a payload wrong in 2,000 places: 100 issues and one that counts the rest', async () => {
      const header: Record<string, string> = {};
      for (let i = 0; i < 2000; i++) header[`unknown${i}`] = 'x';
      const body = JSON.stringify({ header });
      const r = await send(hospital, 'POST', '/forms/shujii-ikensho', body, { 'content-type': 'application/json' });
      expect(r.status).to.be.within(400, 499);
      const list = issues(r);
      expect(list).to.have.length(101);
      expect(list[100]!.code).to.equal('too-costly');
      expect(list[100]!.diagnostics).to.match(/^\d+ more issues not shown/);
      expect(r.text.length).to.be.below(body.length * 4);
    });
  });

  describe('afterwards', () => {
    it('no document was stored, and the gateway is ready', async () => {
      expect((await hospital.get('/fhir/DocumentReference?_count=1')).body.total).to.equal(0);
      expect((await hospital.get('/readyz')).status).to.equal(200);
    });
  });
});
