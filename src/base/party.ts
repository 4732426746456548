// The five kinds of party in the source document's sharing table (介護情報基盤によるの介護情報の共有の範囲のまとめ).
// A caller's party comes from its client certificate (see src/pki/party-from-cert.ts); nothing else can claim one.

export const PARTY_KINDS = [
  'user', // 利用者
  'municipality', // 市区町村 (保険者) — code: 保険者番号 (6 digits)
  'care-provider', // 介護事業所 — code: 介護事業所番号 (10 digits)
  'care-manager-office', // 居宅介護支援事業所 — code: 介護事業所番号 (10 digits)
  'medical-institution', // 医療機関 — code: 医療機関コード (10 digits)
] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];

export interface Party {
  kind: PartyKind;
  /** 保険者番号, 介護事業所番号 or 医療機関コード, as in the certificate. */
  code: string;
  /** Organisation name from the certificate subject (O=), for display only. */
  name: string;
}

export const isPartyKind = (s: string): s is PartyKind => (PARTY_KINDS as readonly string[]).includes(s);

/** The URI carried in the certificate's subjectAltName that names the party. */
export const partyUri = (p: Pick<Party, 'kind' | 'code'>): string => `urn:kaigo-gateway:party:${p.kind}:${p.code}`;

export function parsePartyUri(uri: string): Pick<Party, 'kind' | 'code'> | undefined {
  const m = /^urn:kaigo-gateway:party:([a-z-]+):([0-9A-Za-z]+)$/.exec(uri);
  if (!m || !isPartyKind(m[1]!)) return undefined;
  return { kind: m[1], code: m[2]! };
}

export const partyKey = (p: Pick<Party, 'kind' | 'code'>): string => `${p.kind}:${p.code}`;

/**
 * Identifier systems whose values are a party's own code, or a part of one. An Organization carrying one of these
 * identifiers claims to be that party, so only the party itself may create it (see engine/access/policy.ts).
 * `of` gives, from a party's code, the value it carries in that system.
 */
export interface PartyCodeSystem {
  system: string;
  kinds: readonly PartyKind[];
  label: string;
  of(code: string): string;
}

const whole = (code: string): string => code;
// A 医療機関コード is 都道府県 (2) + 点数表 (1) + 医療機関番号 (7); MedicalOrganizationID is the last seven digits.
const institutionNumber = (code: string): string => code.slice(3);

export const PARTY_CODE_SYSTEMS: readonly PartyCodeSystem[] = [
  {
    system: 'http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no',
    kinds: ['medical-institution'],
    label: '医療機関コード',
    of: whole,
  },
  {
    system: 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID',
    kinds: ['medical-institution'],
    label: '医療機関番号',
    of: institutionNumber,
  },
  {
    system: 'urn:oid:1.2.392.100495.20.3.23',
    kinds: ['medical-institution'],
    label: '医療機関番号',
    of: institutionNumber,
  },
  {
    system: 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber',
    kinds: ['municipality'],
    label: '保険者番号',
    of: whole,
  },
  { system: 'urn:oid:1.2.392.100495.20.3.61', kinds: ['municipality'], label: '保険者番号', of: whole },
  {
    system: 'http://kaigo-gateway.jp/fhir/IdSystem/ltci-provider-number',
    kinds: ['care-provider', 'care-manager-office'],
    label: '介護事業所番号',
    of: whole,
  },
];
