// Dev PKI + TLS profile through real TLS on 127.0.0.1 (SEC-N5 TLS 1.3 only + client certs, SEC-N7 suites/keys).

import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import { Agent, request } from 'undici';
import type { Party } from '../src/base/party.js';
import {
  DEV_PARTIES,
  createUntrustedPki,
  initDevPki,
  issueClientCertificate,
  loadX509,
  type DevPkiFiles,
} from '../src/engine/pki/dev-pki.js';
import { parseSubjectAltName, partyFromPeerCertificate } from '../src/engine/pki/party-from-cert.js';
import {
  TLS13_CIPHERSUITES,
  clientTlsOptions,
  loadPkiFiles,
  serverTlsOptions,
  type TlsFiles,
} from '../src/engine/pki/tls-options.js';

const EXPECTED_FILES = [
  'ca.crt',
  'ca.key',
  'care-office.crt',
  'care-office.key',
  'hospital.crt',
  'hospital.key',
  'municipality.crt',
  'municipality.key',
  'server.crt',
  'server.key',
];
const BASES = ['ca', 'server', 'hospital', 'municipality', 'care-office'] as const;
const LEAVES = ['server', 'hospital', 'municipality', 'care-office'] as const;
const CLIENTS = ['hospital', 'municipality', 'care-office'] as const;

interface Seen {
  party: Party | null;
  authorized: boolean;
  protocol: string | null;
  cipher: string;
}

type Attempt = { ok: true; status: number; seen: Seen } | { ok: false; code: string; message: string };

describe('dev PKI and mutual TLS profile (SEC-N5..N7)', function () {
  let root: string;
  let dir: string;
  let files: DevPkiFiles;
  let server: Server;
  let port: number;
  let handled = 0;
  const tlsErrors: string[] = [];

  const cert = async (base: string): Promise<X509Certificate> =>
    new X509Certificate(await readFile(join(dir, `${base}.crt`)));

  async function attempt(connect: ConnectionOptions): Promise<Attempt> {
    const agent = new Agent({ connect: connect as Agent.Options['connect'] & object });
    try {
      const res = await request(`https://127.0.0.1:${port}/whoami`, { dispatcher: agent });
      return { ok: true, status: res.statusCode, seen: (await res.body.json()) as Seen };
    } catch (e) {
      const err = e as Error & { code?: string; cause?: { code?: string } };
      return { ok: false, code: String(err.code ?? err.cause?.code ?? ''), message: err.message };
    } finally {
      await agent.close();
    }
  }

  /** The server's tlsClientError can land just after the client has seen the failure. */
  async function nextTlsError(before: number): Promise<string> {
    for (let i = 0; i < 100 && tlsErrors.length <= before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(tlsErrors.length, 'server reported a TLS handshake error').to.be.greaterThan(before);
    return tlsErrors[before]!;
  }

  before(async function () {
    root = await mkdtemp(join(tmpdir(), 'kaigo-pki-'));
    dir = join(root, 'dev');
    files = await initDevPki(dir);
    server = createServer(serverTlsOptions(loadPkiFiles(dir)), (req, res) => {
      handled++;
      const socket = req.socket as TLSSocket;
      const seen: Seen = {
        party: partyFromPeerCertificate(socket.getPeerCertificate()) ?? null,
        authorized: socket.authorized,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().standardName,
      };
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(seen));
    });
    server.on('tlsClientError', (err: Error & { code?: string }) => tlsErrors.push(String(err.code ?? err.message)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async function () {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (root) await rm(root, { recursive: true, force: true });
  });

  describe('files', function () {
    it('creates exactly the named PEM files, keys with mode 0600', async function () {
      expect((await readdir(dir)).sort()).to.deep.equal(EXPECTED_FILES);
      expect([...files.written].sort()).to.deep.equal(EXPECTED_FILES);
      for (const b of BASES) {
        expect((await stat(join(dir, `${b}.key`))).mode & 0o777, `${b}.key mode`).to.equal(0o600);
        expect(await readFile(join(dir, `${b}.key`), 'utf8')).to.match(/^-----BEGIN PRIVATE KEY-----\n/);
        expect(await readFile(join(dir, `${b}.crt`), 'utf8')).to.match(/^-----BEGIN CERTIFICATE-----\n/);
      }
      expect(files.clients.hospital.cert).to.equal(join(dir, 'hospital.crt'));
      expect(files.server.key).to.equal(join(dir, 'server.key'));
    });

    it('every certificate chains to ca.crt; only the CA is a CA', async function () {
      const ca = await cert('ca');
      expect(ca.ca).to.equal(true);
      expect(ca.verify(ca.publicKey)).to.equal(true);
      for (const b of LEAVES) {
        const c = await cert(b);
        expect(c.checkIssued(ca), `${b} issued by ca`).to.equal(true);
        expect(c.verify(ca.publicKey), `${b} signature`).to.equal(true);
        expect(c.ca, `${b} is not a CA`).to.equal(false);
        expect(new Date(c.validTo).getTime()).to.be.greaterThan(Date.now() + 300 * 86_400_000);
      }
    });

    it('keys are EC P-256 and signatures ECDSA with SHA-256 (SEC-N7)', async function () {
      const x509 = await loadX509();
      for (const b of BASES) {
        const key = createPrivateKey(await readFile(join(dir, `${b}.key`)));
        expect(key.asymmetricKeyType).to.equal('ec');
        expect(key.asymmetricKeyDetails?.namedCurve, b).to.equal('prime256v1');
        const c = await cert(b);
        expect(c.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
        expect(c.checkPrivateKey(key), `${b}.key matches ${b}.crt`).to.equal(true);
        const alg = new x509.X509Certificate(c.raw).signatureAlgorithm as { name: string; hash?: { name: string } };
        expect(alg.name).to.equal('ECDSA');
        expect(alg.hash?.name).to.equal('SHA-256');
      }
    });

    it('server certificate: localhost, 127.0.0.1 and ::1, EKU serverAuth', async function () {
      const c = await cert('server');
      expect(c.checkHost('localhost')).to.equal('localhost');
      expect(c.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(c.checkIP('::1')).to.equal('::1');
      expect(c.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']);
    });

    it('client certificates: EKU clientAuth, SAN party URI, O= kept as UTF8String', async function () {
      for (const b of CLIENTS) {
        const c = await cert(b);
        const want = DEV_PARTIES[b];
        expect(c.keyUsage, b).to.deep.equal(['1.3.6.1.5.5.7.3.2']);
        expect(c.subjectAltName).to.equal(`URI:urn:kaigo-gateway:party:${want.kind}:${want.code}`);
        expect(partyFromPeerCertificate(c.toLegacyObject())).to.deep.equal(want);
        const utf8 = Buffer.from(want.name, 'utf8');
        const tlv = Buffer.concat([Buffer.from([0x0c, utf8.length]), utf8]); // UTF8String tag 12
        expect(c.raw.includes(tlv), `${b} O= as UTF8String`).to.equal(true);
      }
      expect(DEV_PARTIES).to.deep.equal({
        hospital: { kind: 'medical-institution', code: '1311234567', name: '東京テスト病院' },
        municipality: { kind: 'municipality', code: '131011', name: '東京都千代田区' },
        'care-office': { kind: 'care-manager-office', code: '1370000018', name: '千代田ケアプランセンター' },
      });
    });
  });

  describe('TLS options', function () {
    it('server: TLS 1.3 only, 高セキュリティ型 suites, client certificate required', function () {
      const o = serverTlsOptions(loadPkiFiles(dir));
      expect(o).to.include({
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
        ciphers: 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
        ecdhCurve: 'X25519:P-256:P-384',
        requestCert: true,
        rejectUnauthorized: true,
        honorCipherOrder: true,
      });
      expect(o).not.to.have.property('crl');
      const c = clientTlsOptions(loadPkiFiles(dir, 'hospital'));
      expect(c).to.include({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', rejectUnauthorized: true });
    });

    it('loadPkiFiles relabels a `BEGIN CRL` file to `X509 CRL` and rejects path-like names', async function () {
      const d = join(root, 'crl');
      await initDevPki(d);
      await writeFile(join(d, 'ca.crl'), '-----BEGIN CRL-----\nAAAA\n-----END CRL-----\n');
      expect(loadPkiFiles(d).crl).to.equal('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
      expect(() => loadPkiFiles(d, '../dev/hospital')).to.throw(/invalid certificate base name/);
    });
  });

  describe('mutual TLS on 127.0.0.1', function () {
    const clientFiles = (base: string, d = dir): TlsFiles => loadPkiFiles(d, base);

    it('hospital.crt: handshake succeeds over TLS 1.3 and the server sees the party', async function () {
      const before = handled;
      const r = await attempt(clientTlsOptions(clientFiles('hospital')));
      expect(r.ok, r.ok ? '' : `${r.code} ${r.message}`).to.equal(true);
      if (!r.ok) return;
      expect(r.status).to.equal(200);
      expect(handled).to.equal(before + 1);
      expect(r.seen.authorized).to.equal(true);
      expect(r.seen.protocol).to.equal('TLSv1.3');
      expect(TLS13_CIPHERSUITES.split(':')).to.include(r.seen.cipher);
      expect(r.seen.party).to.deep.equal({
        kind: 'medical-institution',
        code: '1311234567',
        name: '東京テスト病院',
      });
    });

    it('municipality and care-office certificates map to their parties', async function () {
      for (const b of ['municipality', 'care-office'] as const) {
        const r = await attempt(clientTlsOptions(clientFiles(b)));
        expect(r.ok, b).to.equal(true);
        if (r.ok) expect(r.seen.party).to.deep.equal(DEV_PARTIES[b]);
      }
    });

    it('issueClientCertificate adds parties (another municipality, a user)', async function () {
      const other = await issueClientCertificate(dir, {
        kind: 'municipality',
        code: '131029',
        name: '東京都中央区',
        fileBase: 'municipality-131029',
      });
      expect(other.party).to.deep.equal({ kind: 'municipality', code: '131029', name: '東京都中央区' });
      expect((await stat(other.key)).mode & 0o777).to.equal(0o600);
      const user = await issueClientCertificate(dir, {
        kind: 'user',
        code: 'U000123',
        name: '介護 太郎',
        fileBase: 'user-U000123',
      });
      for (const [base, want] of [
        ['municipality-131029', other.party],
        ['user-U000123', user.party],
      ] as const) {
        const r = await attempt(clientTlsOptions(clientFiles(base)));
        expect(r.ok, base).to.equal(true);
        if (r.ok) expect(r.seen.party).to.deep.equal(want);
      }
      await Promise.all(
        ['municipality-131029', 'user-U000123'].flatMap((b) => [
          unlink(join(dir, `${b}.crt`)),
          unlink(join(dir, `${b}.key`)),
        ]),
      );
    });

    it('a TLS 1.2-only client is refused by the server', async function () {
      const before = handled;
      const errs = tlsErrors.length;
      const r = await attempt({
        ...clientTlsOptions(clientFiles('hospital')),
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
      });
      expect(r.ok).to.equal(false);
      expect(handled).to.equal(before);
      expect(await nextTlsError(errs)).to.equal('ERR_SSL_UNSUPPORTED_PROTOCOL');
    });

    it('a client without a certificate is refused at the handshake', async function () {
      const before = handled;
      const errs = tlsErrors.length;
      const { ca } = clientFiles('hospital');
      const r = await attempt({ ca, minVersion: 'TLSv1.3' });
      expect(r.ok).to.equal(false);
      expect(handled).to.equal(before);
      expect(await nextTlsError(errs)).to.equal('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    });

    it('a client certificate from an untrusted CA (same party URI, same CA name) is refused', async function () {
      const u = await createUntrustedPki(join(root, 'untrusted'));
      expect(u.client.party).to.deep.equal(DEV_PARTIES.hospital);
      const untrustedCa = new X509Certificate(await readFile(u.ca.cert));
      expect(untrustedCa.subject).to.equal((await cert('ca')).subject);
      expect((await stat(u.client.key)).mode & 0o777).to.equal(0o600);
      const before = handled;
      const errs = tlsErrors.length;
      const r = await attempt(
        clientTlsOptions({
          ca: await readFile(join(dir, 'ca.crt'), 'utf8'), // the client trusts the real server…
          cert: await readFile(u.client.cert, 'utf8'), // …but presents a foreign certificate
          key: await readFile(u.client.key, 'utf8'),
        }),
      );
      expect(r.ok).to.equal(false);
      expect(handled).to.equal(before);
      // With rejectUnauthorized:true Node destroys the socket after the TLS 1.3 handshake without
      // reporting the verify error (it surfaces only as ECONNRESET on both sides).
      expect(await nextTlsError(errs)).to.match(/^(ERR_SSL_|ECONNRESET$)/);
      if (!r.ok) expect(r.code).to.match(/^(UND_ERR_SOCKET|ECONNRESET|ERR_SSL_)/);
    });

    it('an expired client certificate is refused', async function () {
      const now = Date.now();
      await issueClientCertificate(
        dir,
        { ...DEV_PARTIES.hospital, fileBase: 'expired' },
        { notBefore: new Date(now - 10 * 86_400_000), notAfter: new Date(now - 86_400_000) },
      );
      const before = handled;
      const errs = tlsErrors.length;
      const r = await attempt(clientTlsOptions(clientFiles('expired')));
      expect(r.ok).to.equal(false);
      expect(handled).to.equal(before);
      // With rejectUnauthorized:true Node destroys the socket after the TLS 1.3 handshake without
      // reporting the verify error (it surfaces only as ECONNRESET on both sides).
      expect(await nextTlsError(errs)).to.match(/^(ERR_SSL_|ECONNRESET$)/);
      if (!r.ok) expect(r.code).to.match(/^(UND_ERR_SOCKET|ECONNRESET|ERR_SSL_)/);
      await Promise.all([unlink(join(dir, 'expired.crt')), unlink(join(dir, 'expired.key'))]);
    });

    it('the client refuses a server whose certificate is not from its trusted CA', async function () {
      const u = await createUntrustedPki(join(root, 'untrusted2'));
      const r = await attempt(clientTlsOptions({ ...clientFiles('hospital'), ca: await readFile(u.ca.cert, 'utf8') }));
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.code).to.match(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE|SELF_SIGNED/);
    });
  });

  describe('idempotency', function () {
    it('a second init keeps every file byte-for-byte; force re-creates them', async function () {
      const d = join(root, 'idem');
      const first = await initDevPki(d);
      expect(first.written).to.have.length(10);
      const snapshot = async (): Promise<Map<string, Buffer>> =>
        new Map(await Promise.all(EXPECTED_FILES.map(async (f) => [f, await readFile(join(d, f))] as const)));
      const a = await snapshot();
      const second = await initDevPki(d);
      expect(second.written).to.deep.equal([]);
      const b = await snapshot();
      for (const f of EXPECTED_FILES) expect(b.get(f)!.equals(a.get(f)!), f).to.equal(true);

      const forced = await initDevPki(d, { force: true });
      expect([...forced.written].sort()).to.deep.equal(EXPECTED_FILES);
      const c = await snapshot();
      expect(c.get('ca.crt')!.equals(a.get('ca.crt')!)).to.equal(false);
      const ca = new X509Certificate(c.get('ca.crt')!);
      expect(new X509Certificate(c.get('hospital.crt')!).checkIssued(ca)).to.equal(true);
      expect((await stat(join(d, 'ca.key'))).mode & 0o777).to.equal(0o600);
      expect((await readdir(d)).sort()).to.deep.equal(EXPECTED_FILES);
    });

    it('re-issues only a missing pair, signed by the existing CA', async function () {
      const d = join(root, 'idem2');
      await initDevPki(d);
      const caBefore = await readFile(join(d, 'ca.crt'));
      const hospBefore = await readFile(join(d, 'hospital.crt'));
      await unlink(join(d, 'municipality.crt'));
      await unlink(join(d, 'municipality.key'));
      const again = await initDevPki(d);
      expect(again.written).to.deep.equal(['municipality.crt', 'municipality.key']);
      expect((await readFile(join(d, 'ca.crt'))).equals(caBefore)).to.equal(true);
      expect((await readFile(join(d, 'hospital.crt'))).equals(hospBefore)).to.equal(true);
      const m = new X509Certificate(await readFile(join(d, 'municipality.crt')));
      expect(m.checkIssued(new X509Certificate(caBefore))).to.equal(true);
    });

    it('refuses a half-present pair unless forced', async function () {
      const d = join(root, 'idem3');
      await initDevPki(d);
      await unlink(join(d, 'ca.key'));
      let err: unknown;
      try {
        await initDevPki(d);
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/incomplete.*ca\.crt\/ca\.key/);
      const forced = await initDevPki(d, { force: true });
      expect(forced.written).to.include('ca.key');
    });
  });

  describe('partyFromPeerCertificate', function () {
    const peer = (subjectaltname: string | undefined, O?: string | string[]): PeerCertificate =>
      ({ subjectaltname, subject: O === undefined ? {} : { O } }) as unknown as PeerCertificate;

    it('returns undefined without a certificate or without a party URI', function () {
      expect(partyFromPeerCertificate(undefined)).to.equal(undefined);
      expect(partyFromPeerCertificate({} as PeerCertificate)).to.equal(undefined);
      expect(partyFromPeerCertificate(peer('DNS:localhost, IP Address:127.0.0.1'))).to.equal(undefined);
      expect(partyFromPeerCertificate(peer('URI:urn:kaigo-gateway:party:doctor:123'))).to.equal(undefined);
      expect(partyFromPeerCertificate(peer('URI:https://example.jp/'))).to.equal(undefined);
    });

    it('reads the party among other names; O= may be missing or repeated', function () {
      expect(
        partyFromPeerCertificate(
          peer('DNS:gw.example.jp, URI:urn:kaigo-gateway:party:municipality:131011, IP Address:::1', '東京都千代田区'),
        ),
      ).to.deep.equal({ kind: 'municipality', code: '131011', name: '東京都千代田区' });
      expect(partyFromPeerCertificate(peer('URI:urn:kaigo-gateway:party:user:U1'))).to.deep.equal({
        kind: 'user',
        code: 'U1',
        name: '',
      });
      expect(
        partyFromPeerCertificate(peer('URI:urn:kaigo-gateway:party:care-provider:1370000002', ['A事業所', 'B'])),
      ).to.deep.equal({ kind: 'care-provider', code: '1370000002', name: 'A事業所' });
    });

    it('is not fooled by quoted (escaped) SAN values and refuses two different parties', function () {
      // Node JSON-quotes values containing a comma; the whole quoted value is ONE URI, not a party URI.
      const crafted = 'URI:"x, URI:urn:kaigo-gateway:party:municipality:131011"';
      expect(parseSubjectAltName(crafted)).to.deep.equal([
        { type: 'URI', value: 'x, URI:urn:kaigo-gateway:party:municipality:131011' },
      ]);
      expect(partyFromPeerCertificate(peer(crafted))).to.equal(undefined);
      expect(
        partyFromPeerCertificate(
          peer('URI:urn:kaigo-gateway:party:municipality:131011, URI:urn:kaigo-gateway:party:municipality:131029'),
        ),
      ).to.equal(undefined);
      const same = 'URI:urn:kaigo-gateway:party:municipality:131011, URI:urn:kaigo-gateway:party:municipality:131011';
      expect(partyFromPeerCertificate(peer(same))?.code).to.equal('131011');
      expect(partyFromPeerCertificate(peer('URI:urn:kaigo-gateway:party:user:U1, '))).to.equal(undefined);
      expect(partyFromPeerCertificate(peer('URI:"unterminated'))).to.equal(undefined);
    });

    it('falls back to the DER (raw) when only raw is given', async function () {
      const c = await cert('care-office');
      expect(partyFromPeerCertificate({ raw: c.raw } as PeerCertificate)).to.deep.equal(DEV_PARTIES['care-office']);
    });
  });
});
