// The gateway's single TLS profile (security.md SEC-N5..N8), for the HTTPS server and for outgoing
// calls (undici Agent `connect` options): TLS 1.3 only, 高セキュリティ型 suites, client certificates.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions, TlsOptions } from 'node:tls';

type Pem = string | Buffer;

export interface TlsFiles {
  /** Trusted CA certificate(s), PEM. Only these are trusted (Node's built-in roots are replaced). */
  ca: Pem | Pem[];
  /** Own certificate chain, PEM. */
  cert: Pem;
  /** Own private key, PEM. */
  key: Pem;
  /** CRL(s), PEM with the `X509 CRL` label; when given, every CA level needs a current CRL (SEC-N8). */
  crl?: Pem | Pem[];
}

/**
 * TLS 1.3 suites of the CRYPTREC/IPA 高セキュリティ型 (SEC-N7), in preference order.
 * Node has no separate `ciphersuites` option: `ciphers` entries starting with `TLS_` are the TLS 1.3
 * suites, and with no TLS 1.2 entries the TLS 1.2 cipher list is empty.
 */
export const TLS13_CIPHERSUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';
export const TLS_ECDH_CURVES = 'X25519:P-256:P-384';

/** Protocol floor and ceiling shared by server and client. */
export const TLS_PROFILE = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ciphers: TLS13_CIPHERSUITES,
  ecdhCurve: TLS_ECDH_CURVES,
} as const satisfies ConnectionOptions;

/** What both ends of a connection carry: the protocol profile, our certificate, the trusted CA (and its CRL). */
const endpoint = (files: TlsFiles) => ({
  ...TLS_PROFILE,
  ca: files.ca,
  cert: files.cert,
  key: files.key,
  ...(files.crl === undefined ? {} : { crl: files.crl }),
});

/**
 * Options for `https.createServer`: mutual TLS with the client certificate REQUIRED at the handshake
 * (a client without a certificate, or with one that does not chain to `ca`, never reaches HTTP).
 * Read the caller's party with `partyFromPeerCertificate(socket.getPeerCertificate())`.
 */
export function serverTlsOptions(files: TlsFiles): TlsOptions {
  return {
    ...endpoint(files),
    requestCert: true,
    rejectUnauthorized: true,
    honorCipherOrder: true,
  };
}

/**
 * `connect` options for an undici Agent (or `tls.connect`) calling another node: same protocol
 * floor, presents our client certificate, verifies the server against `ca` only.
 */
export function clientTlsOptions(files: TlsFiles): ConnectionOptions {
  return { ...endpoint(files), rejectUnauthorized: true };
}

/**
 * Node's `crl` option is read by OpenSSL, which only accepts the `X509 CRL` PEM label;
 * @peculiar/x509 writes `BEGIN CRL`. Relabel so either works.
 */
export const normalizeCrlPem = (pem: string): string =>
  pem.replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----');

/**
 * Reads PEM files from a PKI directory laid out like the dev PKI: `ca.crt`, and `server.crt`/`server.key`
 * (or `<clientBase>.crt`/`<clientBase>.key` when `clientBase` is given); `ca.crl` is included when present.
 */
export function loadPkiFiles(dir: string, clientBase?: string): TlsFiles {
  const base = clientBase ?? 'server';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(base)) throw new Error(`invalid certificate base name: ${base}`);
  const files: TlsFiles = {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    cert: readFileSync(join(dir, `${base}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${base}.key`), 'utf8'),
  };
  const crlPath = join(dir, 'ca.crl');
  if (existsSync(crlPath)) files.crl = normalizeCrlPem(readFileSync(crlPath, 'utf8'));
  return files;
}
