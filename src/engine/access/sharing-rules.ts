// The forms' sharing rules (mappings/*.mapping.json `sharing`), read once into the tables the policy asks: who
// authors each form (★) and, per party kind, which forms it holds (○) and on which key it is matched. Checked
// when loaded, so a mapping naming a rule the policy cannot enforce stops the gateway instead of being ignored.
import type { FormDefinition, FormKeyName } from '../forms/form-definition.js';
import type { PartyKind } from '../../base/party.js';
import type { RowField } from '../storage/row-filter.js';

/** Holder keys the policy can match against the caller's organisation code, and the AccessTag field holding each. */
const MATCHABLE: Partial<Record<FormKeyName, RowField>> = { insurerNumber: 'insurerNumber' };

export interface Holding {
  form: string;
  /** AccessTag field that must equal the caller's organisation code (保険者番号 for a municipality) */
  match?: RowField;
}

export interface SharingRules {
  /** form name → title and author kind */
  forms: ReadonlyMap<string, { title: string; author: PartyKind }>;
  /** the kinds that author at least one form */
  authorKinds: ReadonlySet<PartyKind>;
  /** party kind → the forms shared with it as a holder */
  holdings: ReadonlyMap<PartyKind, readonly Holding[]>;
}

export function compileSharingRules(forms: ReadonlyMap<string, FormDefinition>): SharingRules {
  const byForm = new Map<string, { title: string; author: PartyKind }>();
  const holdings = new Map<PartyKind, Holding[]>();
  for (const def of forms.values()) {
    const { author, holders } = def.mapping.sharing;
    byForm.set(def.name, { title: def.mapping.title, author });
    for (const h of holders) {
      const field = h.match === undefined ? undefined : MATCHABLE[h.match];
      if (h.match !== undefined && field === undefined) {
        const supported = Object.keys(MATCHABLE).join(', ');
        throw new Error(
          `mappings/${def.name}.mapping.json: sharing match '${h.match}' is not supported (only ${supported})`,
        );
      }
      const list = holdings.get(h.party) ?? [];
      list.push(field === undefined ? { form: def.name } : { form: def.name, match: field });
      holdings.set(h.party, list);
    }
  }
  return { forms: byForm, authorKinds: new Set([...byForm.values()].map((f) => f.author)), holdings };
}
