// The population behind a generated store: insurers (municipalities), the insured persons living there, and the
// organisations that write about them (care-manager offices, home-care providers, facilities, clinics). Each
// person is tied to one office, a few providers, one clinic and, when living in a facility, that facility, so that
// a person's documents name the same organisations the way real ones do. Deterministic in (seed, persons).
import type { PartyKind } from '../../src/base/party.js';
import { careOfficeNumber, insurerNumber, medicalInstitutionCode, pad } from './identifiers.js';
import { MUNICIPALITIES } from './municipalities.js';
import { FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES, type NamePart } from './names.js';
import { Prng, WeightedTable } from './prng.js';

export interface Insurer {
  insurerNumber: string;
  name: string;
  prefecture: string;
  municipalityCode: string;
  towns: readonly string[];
}

export type OrganizationRole = 'care-manager-office' | 'home-care-provider' | 'facility' | 'medical-institution';

export interface Organization {
  role: OrganizationRole;
  /** the party kind whose certificate this organisation would hold */
  kind: PartyKind;
  /** 介護保険事業所番号 or 医療機関コード */
  code: string;
  name: string;
  address: string;
  /** the person who signs its documents (care manager, physician) */
  staff: { family: NamePart; given: NamePart };
  insurer: Insurer;
}

/** 要介護状態区分 codes (MHLW): 06 事業対象者, 12/13 要支援1–2, 21–25 要介護1–5. */
export type CareLevel = '06' | '12' | '13' | '21' | '22' | '23' | '24' | '25';

export interface Person {
  index: number;
  insuredNumber: string;
  insurer: Insurer;
  family: NamePart;
  given: NamePart;
  sex: '1' | '2';
  birthDate: string;
  address: string;
  careLevel: CareLevel;
  living: 'home' | 'facility';
  careManager: Organization;
  providers: Organization[];
  facility: Organization | undefined;
  institution: Organization;
  /** relative number of documents written about this person (higher care levels have more services and claims) */
  activity: number;
}

export interface Population {
  seed: number | string;
  insurers: Insurer[];
  persons: Person[];
  organizations: Organization[];
}

// Shares of the certified population by care level (roughly the national statistics) and, per level, the share
// living in a facility.
const CARE_LEVELS: ReadonlyArray<{ code: CareLevel; share: number; inFacility: number; activity: number }> = [
  { code: '06', share: 5, inFacility: 0, activity: 0.5 },
  { code: '12', share: 14, inFacility: 0, activity: 0.6 },
  { code: '13', share: 14, inFacility: 0, activity: 0.7 },
  { code: '21', share: 20, inFacility: 0.03, activity: 1 },
  { code: '22', share: 17, inFacility: 0.05, activity: 1.1 },
  { code: '23', share: 13, inFacility: 0.35, activity: 1.2 },
  { code: '24', share: 10, inFacility: 0.45, activity: 1.3 },
  { code: '25', share: 7, inFacility: 0.55, activity: 1.3 },
];

const BRANDS = [
  'さくら',
  'ひまわり',
  'あおば',
  'みどり',
  'すずらん',
  'つばき',
  'かえで',
  'わかば',
  'あさひ',
  'ふじ',
  'こすもす',
  'すみれ',
  'なでしこ',
  'はなみずき',
  'やまびこ',
  'ほほえみ',
];
const ORGANIZATION_NAMES: Record<OrganizationRole, readonly ((b: string) => string)[]> = {
  'care-manager-office': [(b) => `ケアプランセンター${b}`, (b) => `${b}居宅介護支援事業所`],
  'home-care-provider': [
    (b) => `${b}訪問介護ステーション`,
    (b) => `デイサービス${b}`,
    (b) => `${b}通所リハビリテーション`,
    (b) => `${b}福祉用具センター`,
  ],
  facility: [(b) => `特別養護老人ホーム${b}苑`, (b) => `介護老人保健施設\u3000${b}の杜`],
  'medical-institution': [(b) => `${b}内科クリニック`, (b) => `医療法人社団${b}会\u3000${b}病院`],
};
const KIND_OF: Record<OrganizationRole, PartyKind> = {
  'care-manager-office': 'care-manager-office',
  'home-care-provider': 'care-provider',
  facility: 'care-provider',
  'medical-institution': 'medical-institution',
};
// Persons per organisation of each role, so pools grow with the municipality.
const PERSONS_PER: Record<OrganizationRole, number> = {
  'care-manager-office': 60,
  'home-care-provider': 40,
  facility: 150,
  'medical-institution': 80,
};

function birthDate(rng: Prng): string {
  // 第1号被保険者 (65+) mostly in their eighties; one in twenty a 第2号 (40–64) with a specified disease.
  const age = rng.chance(0.05) ? rng.int(40, 64) : Math.round(65 + 35 * triangular(rng, 0.6));
  const y = 2026 - age;
  const m = rng.int(1, 12);
  const d = rng.int(1, new Date(Date.UTC(y, m, 0)).getUTCDate());
  return `${y}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Triangular distribution on [0, 1] with the given mode. */
function triangular(rng: Prng, mode: number): number {
  const u = rng.next();
  return u < mode ? Math.sqrt(u * mode) : 1 - Math.sqrt((1 - u) * (1 - mode));
}

const address = (rng: Prng, ins: Insurer): string =>
  `${ins.prefecture}${ins.name}${rng.pick(ins.towns)}${rng.int(1, 5)}丁目${rng.int(1, 30)}番${rng.int(1, 20)}号`;

const staffName = (rng: Prng): Organization['staff'] => ({
  family: rng.pick(FAMILY_NAMES),
  given: rng.pick(rng.chance(0.6) ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES),
});

export function generatePopulation(opts: { persons: number; seed: number | string }): Population {
  if (!Number.isInteger(opts.persons) || opts.persons < 1) throw new Error('persons must be a positive integer');
  const rng = new Prng(opts.seed, 'population');
  const insurers: Insurer[] = MUNICIPALITIES.map((m) => ({
    insurerNumber: insurerNumber(m.code),
    name: m.name,
    prefecture: m.prefecture,
    municipalityCode: m.code,
    towns: m.towns,
  }));
  const byPopulation = new WeightedTable(insurers, (_, i) => MUNICIPALITIES[i]!.weight);
  const levels = new WeightedTable(CARE_LEVELS, (l) => l.share);

  // First where everyone lives, so each municipality's organisation pools can be sized to its residents.
  const home = Array.from({ length: opts.persons }, () => byPopulation.pick(rng));
  const residents = new Map<Insurer, number>();
  for (const ins of home) residents.set(ins, (residents.get(ins) ?? 0) + 1);

  const organizations: Organization[] = [];
  const pools = new Map<Insurer, Record<OrganizationRole, Organization[]>>();
  // Serial numbers per code prefix (都道府県 + 区分 + 郡市区): wards of one city share a prefix.
  const serials = new Map<string, number>();
  const nextCode = (role: OrganizationRole, ins: Insurer): string => {
    const make = role === 'medical-institution' ? medicalInstitutionCode : careOfficeNumber;
    const prefix = make(ins.municipalityCode, 0).slice(0, 5);
    const serial = (serials.get(prefix) ?? 0) + 1;
    serials.set(prefix, serial);
    return make(ins.municipalityCode, serial);
  };
  for (const ins of insurers) {
    const n = residents.get(ins) ?? 0;
    const pool = {} as Record<OrganizationRole, Organization[]>;
    for (const role of Object.keys(PERSONS_PER) as OrganizationRole[]) {
      pool[role] = Array.from({ length: Math.max(1, Math.ceil(n / PERSONS_PER[role])) }, () => {
        const org: Organization = {
          role,
          kind: KIND_OF[role],
          code: nextCode(role, ins),
          name: rng.pick(ORGANIZATION_NAMES[role])(rng.pick(BRANDS)),
          address: address(rng, ins),
          staff: staffName(rng),
          insurer: ins,
        };
        organizations.push(org);
        return org;
      });
    }
    pools.set(ins, pool);
  }

  const insuredNumbers = new Set<string>();
  const persons = home.map((insurer, index): Person => {
    let insured: string;
    do insured = pad(rng.int(1, 999_999_999), 10);
    while (insuredNumbers.has(insured));
    insuredNumbers.add(insured);
    const sex = rng.chance(0.64) ? '2' : '1'; // about two thirds of the certified are women
    const level = levels.pick(rng);
    const pool = pools.get(insurer)!;
    const living = rng.chance(level.inFacility) ? 'facility' : 'home';
    const providers = Array.from({ length: rng.int(1, 3) }, () => rng.pick(pool['home-care-provider']));
    return {
      index,
      insuredNumber: insured,
      insurer,
      family: rng.pick(FAMILY_NAMES),
      given: rng.pick(sex === '2' ? FEMALE_GIVEN_NAMES : MALE_GIVEN_NAMES),
      sex,
      birthDate: birthDate(rng),
      address: address(rng, insurer),
      careLevel: level.code,
      living,
      careManager: rng.pick(pool['care-manager-office']),
      providers: [...new Set(providers)],
      facility: living === 'facility' ? rng.pick(pool.facility) : undefined,
      institution: rng.pick(pool['medical-institution']),
      activity: level.activity * (0.5 + rng.next()),
    };
  });
  return { seed: opts.seed, insurers, persons, organizations };
}
