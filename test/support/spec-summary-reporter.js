// mocha's spec output plus the plain closing line `N passed, N failed` that CI reads.
import Mocha from 'mocha';
const { Spec } = Mocha.reporters;
export default class SpecSummary extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const s = this.stats;
      console.log(`${s.passes} passed, ${s.failures} failed${s.pending ? `, ${s.pending} skipped` : ''}`);
    });
  }
}
