// The caller's party from its (already TLS-verified) client certificate: the subjectAltName URI
// `urn:kaigo-gateway:party:<kind>:<code>` names the party, the subject O= gives its display name.
// This does NOT check trust: call it only for a socket with `authorized === true`
// (serverTlsOptions rejects unauthorised clients during the handshake).

import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { parsePartyUri, partyKey, type Party } from '../../base/party.js';

export interface AltName {
  /** Node's label: `DNS`, `URI`, `IP Address`, `email`, `DirName`, `Registered ID`, `othername`… */
  type: string;
  value: string;
}

/**
 * Parses Node's `subjectaltname` string (`URI:urn:…, DNS:localhost, IP Address:127.0.0.1`).
 * Since Node 17.3.1/16.13.2 values containing `,` `"` `\` `'` or control characters are emitted as
 * JSON string literals (`URI:"a, b"`), so a naive split on ", " could be fooled by a crafted name.
 * Returns undefined if the string does not follow that grammar (callers then fail closed).
 */
export function parseSubjectAltName(s: string): AltName[] | undefined {
  const out: AltName[] = [];
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) return undefined;
    const type = s.slice(i, colon);
    if (!/^[A-Za-z][A-Za-z0-9 ]*$/.test(type)) return undefined;
    i = colon + 1;
    let value: string;
    if (s[i] === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) return undefined;
      try {
        value = JSON.parse(s.slice(i, j + 1)) as string;
      } catch {
        return undefined;
      }
      i = j + 1;
    } else {
      const sep = s.indexOf(', ', i);
      const end = sep < 0 ? s.length : sep;
      value = s.slice(i, end);
      if (/["\\,']/.test(value)) return undefined; // Node would have quoted these
      i = end;
    }
    out.push({ type, value });
    if (i < s.length) {
      if (!s.startsWith(', ', i)) return undefined;
      i += 2;
      if (i >= s.length) return undefined;
    }
  }
  return out;
}

const firstString = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
};

/**
 * Party named by a peer certificate, or undefined when the certificate is missing or carries no
 * (or more than one distinct) valid party URI. `name` is the subject O= (UTF-8 decoded; '' if absent).
 */
export function partyFromPeerCertificate(cert: PeerCertificate | undefined): Party | undefined {
  if (!cert) return undefined;
  // getPeerCertificate() returns {} when the peer sent no certificate.
  let san: unknown = cert.subjectaltname;
  let subject: unknown = cert.subject;
  if (typeof san !== 'string' && Buffer.isBuffer(cert.raw) && cert.raw.length > 0) {
    // A hand-built or detailed=false object: re-derive from DER, with Node's own decoding.
    try {
      const legacy = new X509Certificate(cert.raw).toLegacyObject();
      san = legacy.subjectaltname;
      subject = legacy.subject;
    } catch {
      return undefined;
    }
  }
  if (typeof san !== 'string' || san === '') return undefined;
  const names = parseSubjectAltName(san);
  if (!names) return undefined;
  const parties = new Map<string, Pick<Party, 'kind' | 'code'>>();
  for (const n of names) {
    if (n.type !== 'URI') continue;
    const p = parsePartyUri(n.value);
    if (p) parties.set(partyKey(p), p);
  }
  if (parties.size !== 1) return undefined;
  const [p] = [...parties.values()] as [Pick<Party, 'kind' | 'code'>];
  const o = subject && typeof subject === 'object' ? firstString((subject as Record<string, unknown>)['O']) : undefined;
  return { kind: p.kind, code: p.code, name: o ?? '' };
}
