// The documents of a generated store: which form, which sample of it, about whom, by whom and when. Document i is
// drawn from its own PRNG stream, so it is the same whatever else is generated, and can be generated alone.
//
// The mix (per 1,000 documents) follows what a municipality's 介護情報基盤 would hold: certification paperwork for
// every application (被保険者証 90, 主治医意見書 80, 認定調査票 80, 申請書 60, 負担割合証 50 — reissued yearly — and
// 負担限度額認定証 20); care plans, whose 利用票 (第6表) and 別表 (第7表) come every month (居宅 第1–3表 40 each,
// 第6–7表 60 each; 施設 第1–3表 15 each); and monthly claims, the largest group (居宅サービス明細書 110, 居宅介護支援
// 明細書 50, 給付管理票 50, 施設 30, 予防 20, 総合事業 20, 請求書 20 + 10 per provider and month); plus LIFE
// フィードバック 25. Facility forms go to persons living in a facility, 居宅 forms to persons cared for at home
// at 要介護 1–5, 予防 and 総合事業 claims to 要支援 and 事業対象者; everything else to anyone, more often to persons
// with a higher care level (they have more services, hence more paperwork).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Party } from '../../src/base/party.js';
import { PROJECT_ROOT } from '../../src/base/project.js';
import type { FormRegistry } from '../../src/engine/forms/registry.js';
import type { FormDefinition } from '../../src/engine/forms/form-definition.js';
import { daysInMonth, monthsBetween } from './dates.js';
import { FAMILY_NAMES, MALE_GIVEN_NAMES } from './names.js';
import type { Organization, Person, Population } from './persons.js';
import { Prng, WeightedTable } from './prng.js';
import { planSample, type SamplePlan, type SlotValues } from './sample-slots.js';

export const FORM_MIX: Readonly<Record<string, number>> = {
  'hihokensha-sho': 90,
  'shujii-ikensho': 80,
  'nintei-chosahyo': 80,
  'nintei-shinseisho': 60,
  'futan-wariai-sho': 50,
  'futan-gendogaku-nintei-sho': 20,
  'kyotaku-careplan-1': 40,
  'kyotaku-careplan-2': 40,
  'kyotaku-careplan-3': 40,
  'kyotaku-careplan-6': 60,
  'kyotaku-careplan-7': 60,
  'shisetsu-careplan-1': 15,
  'shisetsu-careplan-2': 15,
  'shisetsu-careplan-3': 15,
  'kyotaku-service-meisaisho': 110,
  'kyotaku-shien-meisaisho': 50,
  'kyufu-kanrihyo': 50,
  'shisetsu-service-meisaisho': 30,
  'yobo-service-meisaisho': 20,
  'sogo-jigyohi-meisaisho': 20,
  'kaigo-kyufuhi-seikyusho': 20,
  'sogo-jigyohi-seikyusho': 10,
  'life-feedback': 25,
};

/** The months the documents' key dates fall in: 2023-01 … 2026-09 (45 months), uniformly. */
export const FIRST_MONTH = '2023-01';
export const MONTHS = 45;

type PersonPool = 'facility' | 'home-care' | 'support' | 'anyone';

function poolOf(form: string): PersonPool {
  if (form.startsWith('shisetsu-')) return 'facility';
  if (form === 'yobo-service-meisaisho' || form === 'sogo-jigyohi-meisaisho') return 'support';
  if (form.startsWith('kyotaku-') || form === 'kyufu-kanrihyo') return 'home-care';
  return 'anyone';
}

const inPool = (p: Person, pool: PersonPool): boolean =>
  pool === 'anyone' ||
  (pool === 'facility' && p.living === 'facility') ||
  (pool === 'support' && p.living === 'home' && p.careLevel < '21') ||
  (pool === 'home-care' && p.living === 'home' && p.careLevel >= '21');

export interface DocumentInput {
  index: number;
  def: FormDefinition;
  plan: SamplePlan;
  person: Person;
  /** who submits it: the form's author kind, with the organisation (or insurer, or person) code */
  party: Party;
  values: SlotValues;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

export class DocumentGenerator {
  private readonly forms: WeightedTable<FormDefinition>;
  private readonly plans = new Map<string, WeightedTable<SamplePlan>>();
  private readonly pools = new Map<PersonPool, WeightedTable<Person>>();

  constructor(
    registry: FormRegistry,
    readonly population: Population,
    readonly seed: number | string,
  ) {
    const defs = Object.keys(FORM_MIX).map((name) => {
      const def = registry.get(name);
      if (!def) throw new Error(`FORM_MIX names ${name}, which the registry does not know`);
      return def;
    });
    const missing = [...registry.forms.keys()].filter((n) => !(n in FORM_MIX));
    if (missing.length) throw new Error(`FORM_MIX has no share for ${missing.join(', ')}`);
    this.forms = new WeightedTable(defs, (d) => FORM_MIX[d.name]!);
    for (const def of defs) {
      const dir = join(PROJECT_ROOT, 'test', 'samples', def.name);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
      // The full sample half of the time, the others (minimal and the special cases) share the rest.
      const plans = files.map((f) => planSample(def, join(dir, f)));
      this.plans.set(def.name, new WeightedTable(plans, (p) => (p.file.endsWith('/full.json') ? files.length - 1 : 1)));
    }
    for (const pool of ['facility', 'home-care', 'support', 'anyone'] as const) {
      const members = population.persons.filter((p) => inPool(p, pool));
      // A tiny population may have nobody in a pool: anyone will do then.
      this.pools.set(pool, new WeightedTable(members.length ? members : population.persons, (p) => p.activity));
    }
  }

  input(index: number): DocumentInput {
    const rng = new Prng(this.seed, `doc:${index}`);
    const def = this.forms.pick(rng);
    const plan = this.plans.get(def.name)!.pick(rng);
    const person = this.pools.get(poolOf(def.name))!.pick(rng);
    const author = def.mapping.sharing.author;
    const org = issuerOf(def.name, author, person, rng);

    const month = rng.int(0, MONTHS - 1);
    const y = 2023 + Math.floor(month / 12);
    const mo = (month % 12) + 1;
    const keyMonth = plan.anchorIso ?? `${y}-${pad2(mo)}`;
    const monthShift = monthsBetween(keyMonth, `${y}-${pad2(mo)}`);
    // Submitted on the key date (or in the key month) or up to two weeks later, during office hours.
    const day = plan.anchorIso?.length === 10 ? Math.min(Number(plan.anchorIso.slice(8)), daysInMonth(y, mo)) : 1;
    const at = new Date(Date.UTC(y, mo - 1, day + rng.int(0, 14), 8, 30) + rng.int(0, 10.5 * 3600_000));
    const now = `${at.toISOString().slice(0, 23)}+09:00`;

    const code =
      author === 'municipality' ? person.insurer.insurerNumber : author === 'user' ? person.insuredNumber : org!.code;
    const staff = org?.staff ?? { family: rng.pick(FAMILY_NAMES), given: rng.pick(MALE_GIVEN_NAMES) };
    const values: SlotValues = {
      documentId: `${plan.documentIdPrefix}-${y}${pad2(mo)}-${String(index).padStart(7, '0')}`,
      insurerNumber: person.insurer.insurerNumber,
      insurerName: person.insurer.name,
      issuerCode: code,
      issuerName: org?.name ?? person.insurer.name,
      issuerAddress: org?.address ?? `${person.insurer.prefecture}${person.insurer.name}`,
      staff,
      insuredNumber: person.insuredNumber,
      family: person.family,
      given: person.given,
      sex: person.sex,
      birthDate: person.birthDate,
      address: person.address,
      monthShift,
      now,
    };
    const name =
      org?.name ?? (author === 'municipality' ? person.insurer.name : `${person.family.kanji}${person.given.kanji}`);
    return { index, def, plan, person, party: { kind: author, code, name }, values };
  }
}

function issuerOf(form: string, author: Party['kind'], person: Person, rng: Prng): Organization | undefined {
  switch (author) {
    case 'care-manager-office':
      return person.careManager;
    case 'medical-institution':
      return person.institution;
    case 'care-provider':
      // Facility plans and claims come from the facility; LIFE feedback from wherever the person is cared for.
      if (form.startsWith('shisetsu-') || form === 'life-feedback')
        return person.facility ?? rng.pick(person.providers);
      return rng.pick(person.providers);
    default:
      return undefined;
  }
}
