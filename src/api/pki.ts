// The lab's PKI: a CA, the API server's serving certificate and kubectl's
// client certificate, all ECDSA P-256 (fast to make, accepted by Go's TLS).
//
//   const pki = await createLabPki('ngx-svc');         // PEM strings, see LabPki
//   const kubelet = await issueClientCert(pki, 'system:node:worker', ['system:nodes']);
//
// Whoever holds a client certificate signed by the CA is authenticated as
// its CN (user) and O (groups); the lab grants every such user full access,
// as system:masters has in a kubeadm cluster.

// @peculiar/x509 resolves its services through tsyringe, which needs the
// Reflect metadata API loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface LabPki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface KeyPairPem {
  cert: string;
  key: string;
}

const ALG: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 3600 * 1000;
/** Backdate certificates a little so a skewed clock does not reject them. */
const BACKDATE_MS = 5 * 60 * 1000;

/** The server certificate's subject alternative names, as kubeadm issues for the apiserver. */
export const SERVER_SANS = {
  ips: ['127.0.0.1', '10.96.0.1'],
  dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
};

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return Buffer.from(b).toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importCaKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return (await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign'])) as unknown as CryptoKey;
}

/** RFC 4514 names need escaping for , + " \ < > ; and leading #/space. */
function rdn(value: string): string {
  return value.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([# ])/, '\\$1');
}

interface LeafSpec {
  subject: string;
  usage: 'server' | 'client';
  ips?: string[];
  dns?: string[];
}

async function issueLeaf(ca: x509.X509Certificate, caKey: CryptoKey, spec: LeafSpec, days = 365): Promise<KeyPairPem> {
  const keys = await newKeys();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([spec.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(ca, false),
  ];
  const names = [...(spec.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(spec.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: spec.subject,
    issuer: ca.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** A fresh CA (10 years), server certificate and kubectl client certificate for a lab. */
export async function createLabPki(labName: string): Promise<LabPki> {
  const caKeys = await newKeys();
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${rdn(`nslab-${labName}-ca`)}`,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: SIGNING,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const server = await issueLeaf(ca, caKeys.privateKey, {
    subject: 'CN=kube-apiserver',
    usage: 'server',
    ips: SERVER_SANS.ips,
    dns: SERVER_SANS.dns,
  });
  const client = await issueLeaf(ca, caKeys.privateKey, { subject: 'CN=kubernetes-admin, O=system:masters', usage: 'client' });
  return {
    caCert: ca.toString('pem'),
    caKey: await keyPem(caKeys.privateKey),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
  };
}

/** Another client certificate from the lab CA: CN is the user, each org a group. */
export async function issueClientCert(pki: Pick<LabPki, 'caCert' | 'caKey'>, cn: string, orgs: string[] = [], days = 365): Promise<KeyPairPem> {
  const ca = new x509.X509Certificate(pki.caCert);
  const caKey = await importCaKey(pki.caKey);
  const subject = [`CN=${rdn(cn)}`, ...orgs.map((o) => `O=${rdn(o)}`)].join(', ');
  return issueLeaf(ca, caKey, { subject, usage: 'client' }, days);
}
