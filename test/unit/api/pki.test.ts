import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLabPki, issueClientCert, type LabPki } from '../../../src/api/pki.js';

describe('lab PKI', () => {
  let pki: LabPki;
  it('creates a CA, a server and a client certificate', async () => {
    pki = await createLabPki('demo');
    const ca = new X509Certificate(pki.caCert);
    expect(ca.subject).toBe('CN=nslab-demo-ca');
    expect(ca.ca).toBe(true);
    const years = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
  });

  it('signs the server certificate with the CA and names the apiserver addresses', () => {
    const ca = new X509Certificate(pki.caCert);
    const server = new X509Certificate(pki.serverCert);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.ca).toBe(false);
    const sans = server.subjectAltName ?? '';
    for (const san of [
      'IP Address:127.0.0.1',
      'IP Address:10.96.0.1',
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
    ]) {
      expect(sans).toContain(san);
    }
    expect(server.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(server.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('issues kubectl a system:masters client certificate', () => {
    const ca = new X509Certificate(pki.caCert);
    const client = new X509Certificate(pki.clientCert);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subject.split('\n').sort()).toEqual(['CN=kubernetes-admin', 'O=system:masters']);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('pairs every certificate with its private key', () => {
    for (const [cert, key] of [
      [pki.caCert, pki.caKey],
      [pki.serverCert, pki.serverKey],
      [pki.clientCert, pki.clientKey],
    ] as const) {
      const pub = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'der' });
      const certPub = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
      expect(Buffer.compare(pub, certPub)).toBe(0);
    }
  });

  it('issues more client certificates from the CA later', async () => {
    const extra = await issueClientCert(pki, 'system:node:worker', ['system:nodes']);
    const cert = new X509Certificate(extra.cert);
    expect(cert.verify(new X509Certificate(pki.caCert).publicKey)).toBe(true);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=system:node:worker', 'O=system:nodes']);
  });
});
