// Chain-name hashes and probabilities against the values verified in
// kube-proxy's tests and on real clusters (shared/notes/kube-proxy.md §1.4, §1.5).
import { describe, expect, it } from 'vitest';
import { base32Sha256, endpointChainName, isServiceChainName, serviceChainNames } from '../../../src/proxy/hash.js';
import { computeProbability, formatFixed, savedProbability } from '../../../src/proxy/format.js';

describe('chain names', () => {
  it.each([
    ['ns1/svc1:p80', 'tcp', 'KUBE-SVC-XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p8080', 'tcp', 'KUBE-SVC-2VJB64SDSIJUP5T6'],
    ['default/kubernetes:https', 'tcp', 'KUBE-SVC-NPX46M4PTMTKRN6Y'],
    ['kube-system/kube-dns:dns', 'udp', 'KUBE-SVC-TCOU7JCQXEZGVUNU'],
    ['kube-system/kube-dns:dns-tcp', 'tcp', 'KUBE-SVC-ERIFXISQEP7F7OF4'],
    ['kube-system/kube-dns:metrics', 'tcp', 'KUBE-SVC-JD5MR3NA4I4DYORP'],
    // from kube-proxy's TestOverallIPTablesRules / TestSyncProxyRulesRepeated
    ['ns2/svc2:p80', 'tcp', 'KUBE-SVC-GNZBNJ2PO5MGZ6GT'],
    ['ns3/svc3:p80', 'tcp', 'KUBE-SVC-X27LE4BHSL4DOUIK'],
    ['ns4/svc4:p80', 'tcp', 'KUBE-SVC-4SW47YFZTEDKD3PK'],
    ['ns5/svc5:p80', 'tcp', 'KUBE-SVC-NUKIZ6OKUXPJNT4C'],
  ])('%s %s → %s', (spn, proto, chain) => {
    expect(serviceChainNames(spn, proto).cluster).toBe(chain);
  });

  it('shares one suffix between SVC, SVL, EXT and FW', () => {
    expect(serviceChainNames('ns2/svc2:p80', 'tcp')).toEqual({
      cluster: 'KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      local: 'KUBE-SVL-GNZBNJ2PO5MGZ6GT',
      firewall: 'KUBE-FW-GNZBNJ2PO5MGZ6GT',
      external: 'KUBE-EXT-GNZBNJ2PO5MGZ6GT',
    });
  });

  it.each([
    ['ns1/svc1:p80', '10.180.0.1:80', 'KUBE-SEP-SXIVWICOYRO3J4NJ'],
    ['ns2/svc2:p80', '10.180.0.2:80', 'KUBE-SEP-RS4RBKLTHTF2IUXJ'],
    ['ns3/svc3:p80', '10.180.0.3:80', 'KUBE-SEP-OYPFS5VJICHGATKP'],
    ['ns4/svc4:p80', '10.180.0.4:80', 'KUBE-SEP-UKSFD7AGPMPPLUHC'],
    ['ns4/svc4:p80', '10.180.0.5:80', 'KUBE-SEP-C6EBXVWJJZMIWKLZ'],
    ['ns5/svc5:p80', '10.180.0.3:80', 'KUBE-SEP-I77PXRDZVX7PMWMN'],
    ['ns1/svc1:p80', '10.0.0.0:80', 'KUBE-SEP-DKGQUZGBKLTPAR56'],
    ['ns3/svc3:p8081', '203.0.113.4:8081', 'KUBE-SEP-RUVVH7YV3PHQBDOS'],
  ])('%s → %s → %s', (spn, ep, chain) => {
    expect(endpointChainName(spn, 'tcp', ep)).toBe(chain);
  });

  it('fits the 28-character limit of iptables chain names', () => {
    expect(endpointChainName('a-very-long-namespace-name/a-very-long-service:port', 'sctp', '10.0.0.1:1').length).toBe(25);
    expect(base32Sha256('x', 16)).toMatch(/^[A-Z2-7]{16}$/);
  });

  it('recognises only per-service chains as deletable', () => {
    expect(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ')).toBe(true);
    expect(isServiceChainName('KUBE-FW-SXIVWICOYRO3J4NJ')).toBe(true);
    expect(isServiceChainName('KUBE-SERVICES')).toBe(false);
    expect(isServiceChainName('KUBE-MARK-MASQ')).toBe(false);
  });
});

describe('probabilities', () => {
  it.each([
    [1, '1.0000000000'],
    [2, '0.5000000000'],
    [10, '0.1000000000'],
    [100, '0.0100000000'],
    [1000, '0.0010000000'],
    [10000, '0.0001000000'],
    [100000, '0.0000100000'],
    [100001, '0.0000099999'],
  ])('computeProbability(%i) = %s (kube-proxy TestComputeProbability)', (n, p) => {
    expect(computeProbability(n)).toBe(p);
  });

  it('rounds an exact tie half to even as Go does (1/2048), unlike toFixed', () => {
    expect(computeProbability(2048)).toBe('0.0004882812');
    expect((1 / 2048).toFixed(10)).toBe('0.0004882813');
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
  });

  it('decreases strictly from 1/2 down to 1/100000', () => {
    let prev = 0;
    for (let i = 100000; i > 1; i--) {
      const p = Number.parseFloat(computeProbability(i));
      expect(p > prev).toBe(true);
      prev = p;
    }
  });

  it.each([
    [2, '0.5000000000', '0.50000000000'],
    [3, '0.3333333333', '0.33333333349'],
    [4, '0.2500000000', '0.25000000000'],
    [5, '0.2000000000', '0.20000000019'],
    [6, '0.1666666667', '0.16666666651'],
    [7, '0.1428571429', '0.14285714272'],
  ])('1/%i is written %s and saved back as %s', (n, written, saved) => {
    expect(computeProbability(n)).toBe(written);
    expect(savedProbability(written)).toBe(saved);
  });
});
