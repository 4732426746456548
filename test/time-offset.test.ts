// Instants the gateway writes carry +09:00 by default (KAIGO_TIME_OFFSET), whatever the machine's TZ: a plain
// `npm start` in a UTC container used to write +00:00.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isoWithOffset, parseOffset, setTimeOffset } from '../src/base/clock.js';
import { searchRange, systemOffsetAt } from '../src/base/fhir-dates.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { startTestGateway } from './support/gateway.js';

describe('instants the gateway writes carry its configured offset, not the machine TZ', function () {
  this.timeout(60_000);
  const savedTz = process.env.TZ;
  before(() => {
    process.env.TZ = 'UTC'; // Node applies a changed TZ to every Date from here on
  });
  after(() => {
    process.env.TZ = savedTz;
    setTimeOffset('+09:00');
  });

  it('the machine really is in UTC for these tests', () => {
    expect(new Date(0).getTimezoneOffset()).to.equal(0);
  });

  it('isoWithOffset writes +09:00 by default, the same instant', () => {
    const d = new Date('2024-03-31T15:30:00.000Z');
    expect(isoWithOffset(d)).to.equal('2024-04-01T00:30:00.000+09:00');
    expect(Date.parse(isoWithOffset(d))).to.equal(d.getTime());
  });

  it('another offset can be configured, and is refused when malformed', () => {
    setTimeOffset('-03:30');
    expect(isoWithOffset(new Date('2024-04-01T00:00:00Z'))).to.equal('2024-03-31T20:30:00.000-03:30');
    setTimeOffset('Z');
    expect(isoWithOffset(new Date('2024-04-01T00:00:00Z'))).to.equal('2024-04-01T00:00:00.000+00:00');
    setTimeOffset('+09:00');
    for (const bad of ['Asia/Tokyo', '+9:00', '+15:00', '0900', '']) expect(parseOffset(bad), bad).to.equal(undefined);
    expect(() => setTimeOffset('Asia/Tokyo')).to.throw(/offset/);
  });

  it('a search value without an offset is read in the same offset the gateway writes', () => {
    expect(systemOffsetAt(0)).to.equal(540);
    expect(new Date(searchRange('2024-04-01', systemOffsetAt)!.low).toISOString()).to.equal('2024-03-31T15:00:00.000Z');
  });

  it('a gateway started in UTC writes meta.lastUpdated with +09:00', async () => {
    const gw = await startTestGateway({ config: { workers: 0 } });
    try {
      const r = await gw.client('hospital').post('/fhir/Patient', { resourceType: 'Patient', gender: 'female' });
      expect(r.status, r.text).to.equal(201);
      expect(r.body.meta.lastUpdated).to.match(/\+09:00$/);
    } finally {
      await gw.stop();
    }
  });

  it('KAIGO_TIME_OFFSET configures a gateway: +05:30', async () => {
    const gw = await startTestGateway({ config: { workers: 0, timeOffset: '+05:30' } });
    try {
      const r = await gw.client('hospital').post('/fhir/Patient', { resourceType: 'Patient', gender: 'male' });
      expect(r.body.meta.lastUpdated).to.match(/\+05:30$/);
    } finally {
      await gw.stop();
      setTimeOffset('+09:00');
    }
  });

  it('the CLI, run with TZ=UTC and no setting, writes +09:00 (the document Bundle timestamp)', () => {
    const out = execFileSync(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin/kaigo-gateway.js'),
        'translate',
        '--form',
        'shujii-ikensho',
        '--to',
        'fhir',
        join(PROJECT_ROOT, 'test/samples/shujii-ikensho/full.json'),
      ],
      { env: { ...process.env, TZ: 'UTC', KAIGO_TIME_OFFSET: '' }, encoding: 'utf8' },
    );
    expect((JSON.parse(out) as { timestamp: string }).timestamp).to.match(/\+09:00$/);
  });
});
