// The searches whose cost must not grow with the store (test/search-scale.test.ts, bench/scale-search.ts): each
// parameter alone and the combinations a municipal system sends, as the municipality (the largest insurer) and
// as a hospital, plus the duplicate check every POST makes. Values come from the filled store (ScaleFacts).
import type { Party } from '../../src/base/party.js';
import { INSURER_NUMBER_SYSTEM, INSURED_NUMBER_SYSTEM } from '../../src/engine/forms/assemble-document.js';
import type { ScaleFacts } from './scale-store.js';

export interface ScaleQuery {
  name: string;
  party: Party;
  resourceType: string;
  query: Record<string, string | string[]>;
  /**
   * Why this one is not expected to stay flat, when it is not: measured and planned like the others, left out of
   * the guard's cost ratio.
   */
  notFlat?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Date bounds `from`…`to` of the way through the window the store was written in (0 = first write, 1 = last). */
function within(f: ScaleFacts, from: number, to?: number): string[] {
  const { fromMs, toMs } = f.written;
  const at = (x: number): string => iso(Math.round(fromMs + (toMs - fromMs) * x));
  return to === undefined ? [`ge${at(from)}`] : [`ge${at(from)}`, `lt${at(to)}`];
}

export function scaleQueries(f: ScaleFacts): ScaleQuery[] {
  const m = (name: string, query: ScaleQuery['query'], resourceType = 'DocumentReference'): ScaleQuery => ({
    name,
    party: f.municipality,
    resourceType,
    query,
  });
  const h = (name: string, query: ScaleQuery['query']): ScaleQuery => ({
    name,
    party: f.hospital,
    resourceType: 'DocumentReference',
    query,
  });
  return [
    m('municipality: everything in scope', {}),
    m('municipality: type', { type: 'shujii-ikensho' }),
    // the store's time as four years: 2 % ≈ a month, 0.07 % ≈ a day
    m('municipality: type + date (the last 2 %)', { type: 'shujii-ikensho', date: within(f, 0.98, 1.01) }),
    m('municipality: type + date (0.07 %, mid-way)', { type: 'shujii-ikensho', date: within(f, 0.5, 0.5007) }),
    {
      ...m('municipality: type + date (2 %, mid-way)', { type: 'shujii-ikensho', date: within(f, 0.5, 0.52) }),
      notFlat:
        'a long period long ago, newest first: more rows than the cap store-wide, so it walks the form’s documents ' +
        'of the insurer from the newest down to the period (nothing bounds meta.lastUpdated from above)',
    },
    m('municipality: insured-number', { 'insured-number': `${INSURED_NUMBER_SYSTEM}|${f.busyPerson.insuredNumber}` }),
    m('municipality: insurer-number', { 'insurer-number': `${INSURER_NUMBER_SYSTEM}|${f.municipality.code}` }),
    m('municipality: status', { status: 'current' }),
    m('municipality: status superseded + type', { status: 'superseded', type: 'shujii-ikensho' }),
    m('municipality: identifier', { identifier: `${f.lastIdentifier.system}|${f.lastIdentifier.value}` }),
    m('municipality: _lastUpdated (last 5 %)', { _lastUpdated: within(f, 0.95) }),
    m('municipality: status + _lastUpdated (last 5 %)', { status: 'current', _lastUpdated: within(f, 0.95) }),
    m('municipality: _lastUpdated (10 % mid-way)', { _lastUpdated: within(f, 0.45, 0.55) }),
    m('municipality: type, oldest first', { type: 'shujii-ikensho', _sort: '_lastUpdated' }),
    h('hospital: type', { type: 'shujii-ikensho' }),
    h('hospital: status', { status: 'current' }),
    h('hospital: _lastUpdated (last 5 %)', { _lastUpdated: within(f, 0.95) }),
    m(
      'municipality: QuestionnaireResponse by identifier',
      { identifier: `${f.lastIdentifier.system}|${f.lastIdentifier.value}` },
      'QuestionnaireResponse',
    ),
  ];
}
