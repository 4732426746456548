// Development PKI: a local CA plus server and client (party) certificates for mutual TLS (SEC-N5..N7).
// ECDSA P-256 keys, ecdsa-with-SHA256 signatures, PEM files; private keys written with mode 0600.
// NOT for production: production parties get their certificates from the platform's CA.

import { webcrypto, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import { partyUri, type Party } from '../../base/party.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// ---------------------------------------------------------------------------------------------
// @peculiar/x509 2.2.0 depends on tsyringe 4.10, which throws at import time unless a Reflect
// metadata polyfill (`reflect-metadata`) is loaded first. That package is not a dependency of this
// project, so we install the three functions tsyringe actually calls (getMetadata, getOwnMetadata,
// defineMetadata; plus `metadata` for tslib's __metadata) when they are missing, and load
// @peculiar/x509 lazily afterwards (a static import would be evaluated before this code runs).
// If `reflect-metadata` is added to package.json, replace this block with `import 'reflect-metadata';`
// as the first import and a static `import * as x509 from '@peculiar/x509'`.
// ---------------------------------------------------------------------------------------------
type MetaKey = unknown;
type ReflectWithMetadata = typeof Reflect & {
  getMetadata?: (key: MetaKey, target: object, prop?: PropertyKey) => unknown;
  getOwnMetadata?: (key: MetaKey, target: object, prop?: PropertyKey) => unknown;
  defineMetadata?: (key: MetaKey, value: unknown, target: object, prop?: PropertyKey) => void;
  metadata?: (key: MetaKey, value: unknown) => (target: object, prop?: PropertyKey) => void;
};

function ensureReflectMetadata(): void {
  const R = Reflect as ReflectWithMetadata;
  if (typeof R.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<MetaKey, unknown>>>();
  const own = (target: object, prop: PropertyKey | undefined, create: boolean): Map<MetaKey, unknown> | undefined => {
    let byProp = store.get(target);
    if (!byProp) {
      if (!create) return undefined;
      byProp = new Map();
      store.set(target, byProp);
    }
    let m = byProp.get(prop);
    if (!m && create) {
      m = new Map();
      byProp.set(prop, m);
    }
    return m;
  };
  R.getOwnMetadata = (key, target, prop) => own(target, prop, false)?.get(key);
  R.getMetadata = (key, target, prop) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const m = own(t, prop, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  R.defineMetadata = (key, value, target, prop) => void own(target, prop, true)!.set(key, value);
  R.metadata = (key, value) => (target, prop) => R.defineMetadata!(key, value, target, prop);
}

let x509Promise: Promise<typeof X509> | undefined;
/** Loads @peculiar/x509 with the Reflect polyfill in place and Node's WebCrypto as its provider. */
export function loadX509(): Promise<typeof X509> {
  x509Promise ??= (async () => {
    ensureReflectMetadata();
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return x509Promise;
}

// ---------------------------------------------------------------------------------------------

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 397;
/** Back-date notBefore a little so peers with a slightly slow clock accept fresh certificates. */
const CLOCK_SKEW_MS = 5 * 60_000;

export const DEV_CA_NAME = 'kaigo-gateway Development CA';

/** Paths of one certificate and its private key. */
export interface CertKeyPaths {
  cert: string;
  key: string;
}

export interface ClientCertPaths extends CertKeyPaths {
  party: Party;
}

export type DevClientName = 'hospital' | 'municipality' | 'care-office';

export interface DevPkiFiles {
  dir: string;
  ca: CertKeyPaths;
  server: CertKeyPaths;
  clients: Record<DevClientName, ClientCertPaths>;
  /** File names (not paths) written by this call; empty when everything already existed. */
  written: string[];
}

/** The parties of the development PKI, by file base name. */
export const DEV_PARTIES: Record<DevClientName, Party> = {
  hospital: { kind: 'medical-institution', code: '1311234567', name: '東京テスト病院' },
  municipality: { kind: 'municipality', code: '131011', name: '東京都千代田区' },
  'care-office': { kind: 'care-manager-office', code: '1370000018', name: '千代田ケアプランセンター' },
};

interface LoadedCa {
  cert: X509.X509Certificate;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

const exists = async (p: string): Promise<boolean> => {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
};

/** Positive, 16-byte, minimally DER-encodable serial number (hex). */
const serialHex = (): string => {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
};

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode, flag: 'wx' });
  await chmod(tmp, mode); // writeFile's mode is filtered by the umask
  await rename(tmp, path);
}

async function writePair(
  x509: typeof X509,
  dir: string,
  base: string,
  cert: X509.X509Certificate,
  privateKey: CryptoKey,
): Promise<CertKeyPaths> {
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', privateKey);
  const paths = { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) };
  await writeAtomic(paths.key, x509.PemConverter.encode(keyDer, 'PRIVATE KEY'), 0o600);
  await writeAtomic(paths.cert, cert.toString('pem') + '\n', 0o644);
  return paths;
}

const newKeys = (): Promise<CryptoKeyPair> => webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** O= values are always encoded as UTF8String (never PrintableString/T61String), so Japanese names survive. */
function subjectName(x509: typeof X509, o: string, cn: string): X509.Name {
  return new x509.Name([{ C: ['JP'] }, { O: [{ utf8String: o }] }, { CN: [{ utf8String: cn }] }]);
}

async function createCa(x509: typeof X509, dir: string, cn: string, o: string): Promise<LoadedCa> {
  const keys = await newKeys();
  const name = subjectName(x509, o, cn);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(),
    subject: name,
    issuer: name,
    ...validity(CA_VALIDITY_DAYS),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writePair(x509, dir, 'ca', cert, keys.privateKey);
  return { cert, privateKey: keys.privateKey, publicKey: keys.publicKey };
}

async function loadCa(x509: typeof X509, dir: string): Promise<LoadedCa> {
  const [certPem, keyPem] = await Promise.all([
    readFile(join(dir, 'ca.crt'), 'utf8'),
    readFile(join(dir, 'ca.key'), 'utf8'),
  ]);
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), EC_ALG, false, [
    'sign',
  ]);
  const publicKey = await cert.publicKey.export(EC_ALG, ['verify'], webcrypto);
  return { cert, privateKey, publicKey };
}

interface LeafSpec {
  base: string;
  o: string;
  cn: string;
  eku: X509.ExtendedKeyUsage;
  san: X509.JsonGeneralNames;
  notBefore?: Date;
  notAfter?: Date;
}

async function issueLeaf(x509: typeof X509, dir: string, ca: LoadedCa, spec: LeafSpec): Promise<CertKeyPaths> {
  const keys = await newKeys();
  const v = validity(LEAF_VALIDITY_DAYS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(),
    subject: subjectName(x509, spec.o, spec.cn),
    issuer: ca.cert.subjectName,
    notBefore: spec.notBefore ?? v.notBefore,
    notAfter: spec.notAfter ?? v.notAfter,
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([spec.eku], false),
      new x509.SubjectAlternativeNameExtension(spec.san, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
    ],
  });
  return writePair(x509, dir, spec.base, cert, keys.privateKey);
}

const serverSpec = (x509: typeof X509): LeafSpec => ({
  base: 'server',
  o: 'kaigo-gateway (development)',
  cn: 'localhost',
  eku: x509.ExtendedKeyUsage.serverAuth,
  san: [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ],
});

const clientSpec = (x509: typeof X509, party: Party, base: string, opts?: IssueOptions): LeafSpec => ({
  base,
  o: party.name,
  cn: `${party.kind}:${party.code}`,
  eku: x509.ExtendedKeyUsage.clientAuth,
  san: [{ type: 'url', value: partyUri(party) }],
  ...(opts?.notBefore ? { notBefore: opts.notBefore } : {}),
  ...(opts?.notAfter ? { notAfter: opts.notAfter } : {}),
});

/** 'none' | 'both' | 'partial' presence of `<base>.crt` and `<base>.key`. */
async function pairState(dir: string, base: string): Promise<'none' | 'both' | 'partial'> {
  const [c, k] = await Promise.all([exists(join(dir, `${base}.crt`)), exists(join(dir, `${base}.key`))]);
  return c && k ? 'both' : c || k ? 'partial' : 'none';
}

const SAFE_BASE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Creates (or completes) the development PKI in `dir`: ca, server, hospital, municipality and
 * care-office certificates and keys. Existing pairs are kept unless `force`; if the CA is created
 * anew every leaf is re-issued (old leaves would no longer chain). A half-present pair (only the .crt
 * or only the .key) is an error unless `force`.
 */
export async function initDevPki(dir: string, opts?: { force?: boolean }): Promise<DevPkiFiles> {
  const force = opts?.force === true;
  const x509 = await loadX509();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const bases = ['ca', 'server', ...(Object.keys(DEV_PARTIES) as DevClientName[])];
  const states = new Map<string, 'none' | 'both' | 'partial'>();
  for (const b of bases) states.set(b, await pairState(dir, b));
  if (!force) {
    const partial = bases.filter((b) => states.get(b) === 'partial');
    if (partial.length > 0)
      throw new Error(
        `dev PKI in ${dir} is incomplete (${partial.map((b) => `${b}.crt/${b}.key`).join(', ')}): ` +
          'restore the missing file or re-run with force',
      );
  }

  const newCa = force || states.get('ca') !== 'both';
  let ca: LoadedCa | undefined;
  const getCa = async (): Promise<LoadedCa> => (ca ??= await loadCa(x509, dir));
  if (newCa) {
    ca = await createCa(x509, dir, DEV_CA_NAME, 'kaigo-gateway (development)');
    written.push('ca.crt', 'ca.key');
  }
  const mustIssue = (b: string): boolean => newCa || states.get(b) !== 'both';

  const server: CertKeyPaths = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  if (mustIssue('server')) {
    await issueLeaf(x509, dir, await getCa(), serverSpec(x509));
    written.push('server.crt', 'server.key');
  }
  const clients = {} as Record<DevClientName, ClientCertPaths>;
  for (const [base, party] of Object.entries(DEV_PARTIES) as [DevClientName, Party][]) {
    if (mustIssue(base)) {
      await issueLeaf(x509, dir, await getCa(), clientSpec(x509, party, base));
      written.push(`${base}.crt`, `${base}.key`);
    }
    clients[base] = { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`), party };
  }
  return { dir, ca: { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') }, server, clients, written };
}

export interface IssueOptions {
  notBefore?: Date;
  notAfter?: Date;
}

/**
 * Issues `<fileBase>.crt`/`<fileBase>.key` for `party`, signed by the CA in `dir` (ca.crt/ca.key),
 * always (over)writing those two files. For tests and for adding parties to a dev setup.
 */
export async function issueClientCertificate(
  dir: string,
  party: Party & { fileBase: string },
  opts?: IssueOptions,
): Promise<ClientCertPaths> {
  if (!SAFE_BASE.test(party.fileBase) || party.fileBase === 'ca')
    throw new Error(`invalid fileBase: ${JSON.stringify(party.fileBase)}`);
  const x509 = await loadX509();
  const ca = await loadCa(x509, dir);
  const { fileBase, ...p } = party;
  const paths = await issueLeaf(x509, dir, ca, clientSpec(x509, p, fileBase, opts));
  return { ...paths, party: p };
}

export interface UntrustedPkiFiles {
  dir: string;
  ca: CertKeyPaths;
  client: ClientCertPaths;
}

/**
 * Creates a SEPARATE CA (same subject name as the dev CA, different key) and a client certificate
 * signed by it in `dir`, for tests that a certificate from an unknown CA is refused. By default the
 * client claims the dev hospital's party, so only the issuer differs. Always overwrites.
 */
export async function createUntrustedPki(
  dir: string,
  party: Party & { fileBase: string } = { ...DEV_PARTIES.hospital, fileBase: 'untrusted-client' },
): Promise<UntrustedPkiFiles> {
  if (!SAFE_BASE.test(party.fileBase) || party.fileBase === 'ca')
    throw new Error(`invalid fileBase: ${JSON.stringify(party.fileBase)}`);
  const x509 = await loadX509();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa(x509, dir, DEV_CA_NAME, 'kaigo-gateway (development)');
  const { fileBase, ...p } = party;
  const client = await issueLeaf(x509, dir, ca, clientSpec(x509, p, fileBase));
  return { dir, ca: { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') }, client: { ...client, party: p } };
}
