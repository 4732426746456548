// 1,000 generated bad requests (fixed seed) against every endpoint of a real gateway over HTTPS: each gets a 4xx
// OperationOutcome within 2 s, nothing is written, /readyz stays ready. bench/fuzz.ts runs 10,000 and reports.
import { expect } from 'chai';
import { FUZZ_LIMITS, FUZZ_SEED, hostileRequests, runFuzz } from './support/fuzz.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

describe('fuzz: 1,000 generated bad requests', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({ config: { limits: FUZZ_LIMITS } });
  });
  after(async () => gw.stop());

  it('every one a 4xx OperationOutcome within 2 s; nothing written; ready throughout', async () => {
    const requests = hostileRequests(1000, FUZZ_SEED);
    expect(new Set(requests.map((r) => r.kind)).size).to.be.greaterThanOrEqual(13);
    const report = await runFuzz(gw, requests);
    expect(report.failures, JSON.stringify(report.failures.slice(0, 10), null, 1)).to.deep.equal([]);
    expect(report.rows.after).to.deep.equal(report.rows.before);
    expect(report.readyz.notReady).to.equal(0);
    expect(report.readyz.probes).to.be.greaterThan(0);
  });
});
