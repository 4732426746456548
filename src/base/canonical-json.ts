// RFC 8785 (JCS) canonical JSON, from the `canonicalize` package (CommonJS; its typings don't model the default
// export under NodeNext, hence the cast).
import canonicalizeModule from 'canonicalize';

const jcs = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function canonicalJson(value: unknown): string {
  return jcs(value) ?? '';
}
