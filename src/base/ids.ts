// Deterministic ids (FHIR-Converter pattern): the same document always yields the same resource ids, so a
// retried submission lands on the same rows instead of making a duplicate.
import { createHash, randomUUID } from 'node:crypto';

export function deterministicUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Shape it as an RFC 9562 UUID (version 8: custom, variant 10xx) so it is a valid urn:uuid.
  const v = `8${h.slice(13, 16)}`;
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}-${h.slice(20, 32)}`;
}

export const newId = (): string => randomUUID();

export const CANONICAL_BASE = 'http://kaigo-gateway.jp/fhir';
export const DOCUMENT_ID_SYSTEM = `${CANONICAL_BASE}/IdSystem/document`;
