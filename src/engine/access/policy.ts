// Who may do what, decided from the forms' own sharing rules (mappings/*.mapping.json `sharing`), deny by default:
// a party that no rule names gets nothing. The consent rules (◎, shared only with the user's consent) slot in
// here as further holdings conditioned on an active Consent.
import { forbidden } from '../../base/outcome.js';
import type { FormKeys } from '../forms/assemble-document.js';
import type { FormDefinition } from '../forms/form-definition.js';
import type { AccessTag, ReadScope } from '../storage/store.js';
import { partyKey, type Party } from '../../base/party.js';

export interface AccessPolicy {
  /** Throws 403 unless `party` may submit this form with these keys. */
  assertCanSubmit(party: Party, def: FormDefinition, keys: FormKeys): void;
  /** Throws 403 unless `party` may create resources outside any form (Patient, Practitioner, Organization). */
  assertCanCreateSupporting(party: Party, resourceType: string): void;
  canRead(party: Party, tag: AccessTag): boolean;
  /** False for a party that no rule names at all: it gets 403 rather than an empty result. */
  canSearch(party: Party): boolean;
  readScope(party: Party): ReadScope;
}

export function createAccessPolicy(forms: ReadonlyMap<string, FormDefinition>): AccessPolicy {
  for (const def of forms.values()) {
    for (const h of def.mapping.sharing.holders) {
      if (h.match !== undefined && h.match !== 'insurerNumber') {
        throw new Error(
          `mappings/${def.name}.mapping.json: sharing match '${h.match}' is not supported (only insurerNumber)`,
        );
      }
    }
  }
  const authorKinds = new Set([...forms.values()].map((d) => d.mapping.sharing.author));

  return {
    assertCanSubmit(party, def, keys) {
      if (party.kind !== def.mapping.sharing.author) {
        throw forbidden(
          `a ${party.kind} may not submit a ${def.mapping.title}; only a ${def.mapping.sharing.author} may`,
        );
      }
      // The author named inside the document must be the organisation the certificate names.
      if (keys.issuerCode !== undefined && keys.issuerCode !== party.code) {
        throw forbidden(
          `the document names organisation ${keys.issuerCode} but the client certificate is ${party.code}`,
        );
      }
    },
    assertCanCreateSupporting(party, resourceType) {
      if (!authorKinds.has(party.kind)) throw forbidden(`a ${party.kind} may not create ${resourceType} resources`);
    },
    canRead(party, tag) {
      if (tag.author === partyKey(party)) return true;
      const def = tag.form === undefined ? undefined : forms.get(tag.form);
      if (!def) return false;
      return def.mapping.sharing.holders.some(
        (h) =>
          h.party === party.kind &&
          (h.match === undefined || (h.match === 'insurerNumber' && tag.insurerNumber === party.code)),
      );
    },
    canSearch(party) {
      return (
        authorKinds.has(party.kind) ||
        [...forms.values()].some((d) => d.mapping.sharing.holders.some((h) => h.party === party.kind))
      );
    },
    readScope(party) {
      const holdings: ReadScope['holdings'] = [];
      for (const def of forms.values()) {
        for (const h of def.mapping.sharing.holders) {
          if (h.party !== party.kind) continue;
          holdings.push(
            h.match === 'insurerNumber' ? { form: def.name, insurerNumber: party.code } : { form: def.name },
          );
        }
      }
      return { authors: [partyKey(party)], holdings };
    },
  };
}
