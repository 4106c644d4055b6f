// kube-proxy's TestSyncProxyRulesRepeated through IptablesProxier: partial
// syncs rewrite only the chains of services that changed, stale chains are
// declared and -X'd, a failed restore is followed by a full sync.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { IptablesProxier } from '../../../src/proxy/iptables-proxier.js';
import { FakeNode, kubeProxyPart } from './fake-node.js';
import { fakeProxierConfig, makeService, makeSlice, sortLikeUpstream } from './upstream.js';

const dedent = (s: string) => `${s.replace(/^\n/, '').replace(/^[ \t]+/gm, '')}`;

const FILTER = dedent(`
  *filter
  :KUBE-NODEPORTS - [0:0]
  :KUBE-SERVICES - [0:0]
  :KUBE-EXTERNAL-SERVICES - [0:0]
  :KUBE-FIREWALL - [0:0]
  :KUBE-FORWARD - [0:0]
  :KUBE-PROXY-FIREWALL - [0:0]
  -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
  -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
  -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  COMMIT
`);
const MASQ = dedent(`
  -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
  -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
  -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
`);
const LAST = '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n';
const HEAD = ':KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n';
const TOP = ':KUBE-MARK-MASQ - [0:0]\n:KUBE-POSTROUTING - [0:0]\n';
const cip = (n: number, ip: string, port: number, chain: string) =>
  `-A KUBE-SERVICES -m comment --comment "ns${n}/svc${n}:p${port} cluster IP" -m tcp -p tcp -d ${ip} --dport ${port} -j ${chain}\n`;

function svc(n: number, ip: string, port: number): KubeObject {
  return makeService(`ns${n}`, `svc${n}`, { type: 'ClusterIP', clusterIP: ip, ports: [{ name: `p${port}`, port, protocol: 'TCP' }] });
}
function eps(n: number, port: number, ips: string[]): KubeObject {
  return makeSlice(`ns${n}`, `svc${n}`, 1, ips.map((ip) => ({ ip })), [{ name: `p${port}`, port }]);
}

describe('TestSyncProxyRulesRepeated', () => {
  it('rewrites only what changed, deletes stale chains, and recovers with a full sync', async () => {
    const node = new FakeNode();
    const proxier = new IptablesProxier({ ...fakeProxierConfig(), netns: 'nslab-t.node-a', runner: node, applySysctls: false, minSyncIntervalMs: 0 });
    const last = () => sortLikeUpstream(kubeProxyPart(node.restores.at(-1) ?? ''));
    const svc2 = svc(2, '172.30.0.42', 8080);
    const svc4 = svc(4, '172.30.0.44', 80);
    proxier.onServiceUpsert(svc(1, '172.30.0.41', 80));
    proxier.onServiceUpsert(svc2);
    proxier.onEndpointSliceUpsert(eps(1, 80, ['10.0.1.1']));
    proxier.onEndpointSliceUpsert(eps(2, 8080, ['10.0.2.1']));
    let r = await proxier.sync();
    expect(r.full).toBe(true);
    expect(last()).toBe(
      FILTER +
        dedent(`
        *nat
        :KUBE-NODEPORTS - [0:0]
        :KUBE-SERVICES - [0:0]
        :KUBE-MARK-MASQ - [0:0]
        :KUBE-POSTROUTING - [0:0]
        :KUBE-SEP-SNQ3ZNILQDEJNDQO - [0:0]
        :KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]
        :KUBE-SVC-2VJB64SDSIJUP5T6 - [0:0]
        :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
        -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
        -A KUBE-SERVICES -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 -j KUBE-SVC-2VJB64SDSIJUP5T6
        -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
        -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
        -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
        -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
        -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
        -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ
        -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
        -A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -s 10.0.2.1 -j KUBE-MARK-MASQ
        -A KUBE-SEP-UHEGFW77JX3KXTOV -m comment --comment ns2/svc2:p8080 -m tcp -p tcp -j DNAT --to-destination 10.0.2.1:8080
        -A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 cluster IP" -m tcp -p tcp -d 172.30.0.42 --dport 8080 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-2VJB64SDSIJUP5T6 -m comment --comment "ns2/svc2:p8080 -> 10.0.2.1:8080" -j KUBE-SEP-UHEGFW77JX3KXTOV
        -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO
        COMMIT
      `),
    );

    // Add a new service and its endpoints: only its SVC and SEP chains are written.
    proxier.onServiceUpsert(svc(3, '172.30.0.43', 80));
    const eps3 = eps(3, 80, ['10.0.3.1']);
    proxier.onEndpointSliceUpsert(eps3);
    r = await proxier.sync();
    expect([r.full, r.changedServices]).toEqual([false, ['ns3/svc3']]);
    expect(last()).toBe(
      FILTER +
        '*nat\n' + HEAD + TOP +
        ':KUBE-SEP-BSWRHOQ77KEXZLNL - [0:0]\n:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]\n' +
        cip(1, '172.30.0.41', 80, 'KUBE-SVC-XPGD46QRK7WJZT7O') +
        cip(2, '172.30.0.42', 8080, 'KUBE-SVC-2VJB64SDSIJUP5T6') +
        cip(3, '172.30.0.43', 80, 'KUBE-SVC-X27LE4BHSL4DOUIK') +
        LAST + MASQ +
        dedent(`
        -A KUBE-SEP-BSWRHOQ77KEXZLNL -m comment --comment ns3/svc3:p80 -s 10.0.3.1 -j KUBE-MARK-MASQ
        -A KUBE-SEP-BSWRHOQ77KEXZLNL -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.1:80
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.1:80" -j KUBE-SEP-BSWRHOQ77KEXZLNL
        COMMIT
      `),
    );

    // Delete a service: its chains are flushed and deleted.
    proxier.onServiceDelete(svc2);
    await proxier.sync();
    expect(last()).toBe(
      FILTER +
        '*nat\n' + HEAD + TOP +
        ':KUBE-SEP-UHEGFW77JX3KXTOV - [0:0]\n:KUBE-SVC-2VJB64SDSIJUP5T6 - [0:0]\n' +
        cip(1, '172.30.0.41', 80, 'KUBE-SVC-XPGD46QRK7WJZT7O') +
        cip(3, '172.30.0.43', 80, 'KUBE-SVC-X27LE4BHSL4DOUIK') +
        LAST + MASQ +
        '-X KUBE-SEP-UHEGFW77JX3KXTOV\n-X KUBE-SVC-2VJB64SDSIJUP5T6\nCOMMIT\n',
    );

    // A service without endpoints: only the REJECT rule.
    proxier.onServiceUpsert(svc4);
    await proxier.sync();
    expect(last()).toBe(
      FILTER.replace(
        '-A KUBE-FIREWALL',
        '-A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.44 --dport 80 -j REJECT\n-A KUBE-FIREWALL',
      ) +
        '*nat\n' + HEAD + TOP +
        cip(1, '172.30.0.41', 80, 'KUBE-SVC-XPGD46QRK7WJZT7O') +
        cip(3, '172.30.0.43', 80, 'KUBE-SVC-X27LE4BHSL4DOUIK') +
        LAST + MASQ + 'COMMIT\n',
    );

    // Its endpoints arrive.
    proxier.onEndpointSliceUpsert(eps(4, 80, ['10.0.4.1']));
    await proxier.sync();
    expect(last()).toBe(
      FILTER +
        '*nat\n' + HEAD + TOP +
        ':KUBE-SEP-AYCN5HPXMIRJNJXU - [0:0]\n:KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]\n' +
        cip(1, '172.30.0.41', 80, 'KUBE-SVC-XPGD46QRK7WJZT7O') +
        cip(3, '172.30.0.43', 80, 'KUBE-SVC-X27LE4BHSL4DOUIK') +
        cip(4, '172.30.0.44', 80, 'KUBE-SVC-4SW47YFZTEDKD3PK') +
        LAST + MASQ +
        dedent(`
        -A KUBE-SEP-AYCN5HPXMIRJNJXU -m comment --comment ns4/svc4:p80 -s 10.0.4.1 -j KUBE-MARK-MASQ
        -A KUBE-SEP-AYCN5HPXMIRJNJXU -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.4.1:80
        -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp -p tcp -d 172.30.0.44 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.0.4.1:80" -j KUBE-SEP-AYCN5HPXMIRJNJXU
        COMMIT
      `),
    );

    // Change an endpoint of svc3: its SVC and SEP chains are rewritten, the old SEP deleted.
    proxier.onEndpointSliceUpsert(eps(3, 80, ['10.0.3.2']));
    await proxier.sync();
    const all3 = cip(1, '172.30.0.41', 80, 'KUBE-SVC-XPGD46QRK7WJZT7O') + cip(3, '172.30.0.43', 80, 'KUBE-SVC-X27LE4BHSL4DOUIK') + cip(4, '172.30.0.44', 80, 'KUBE-SVC-4SW47YFZTEDKD3PK');
    expect(last()).toBe(
      FILTER +
        '*nat\n' + HEAD + TOP +
        ':KUBE-SEP-BSWRHOQ77KEXZLNL - [0:0]\n:KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]\n:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]\n' +
        all3 + LAST + MASQ +
        dedent(`
        -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -s 10.0.3.2 -j KUBE-MARK-MASQ
        -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.2:80
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.2:80" -j KUBE-SEP-DKCFIS26GWF2WLWC
        -X KUBE-SEP-BSWRHOQ77KEXZLNL
        COMMIT
      `),
    );

    // Add an endpoint to svc3.
    proxier.onEndpointSliceUpsert(eps(3, 80, ['10.0.3.2', '10.0.3.3']));
    await proxier.sync();
    const svc3Chains = dedent(`
        -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -s 10.0.3.2 -j KUBE-MARK-MASQ
        -A KUBE-SEP-DKCFIS26GWF2WLWC -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.2:80
        -A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -s 10.0.3.3 -j KUBE-MARK-MASQ
        -A KUBE-SEP-JVVZVJ7BSEPPRNBS -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.3.3:80
    `);
    const svc3Svc = dedent(`
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-DKCFIS26GWF2WLWC
        -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.0.3.3:80" -j KUBE-SEP-JVVZVJ7BSEPPRNBS
    `);
    expect(last()).toBe(
      FILTER +
        '*nat\n' + HEAD + TOP +
        ':KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]\n:KUBE-SEP-JVVZVJ7BSEPPRNBS - [0:0]\n:KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]\n' +
        all3 + LAST + MASQ + svc3Chains + svc3Svc + 'COMMIT\n',
    );

    // No change: kube-proxy would restore the top-level chains again; this
    // proxier knows nothing changed and runs no command at all.
    const before = node.calls.length;
    r = await proxier.sync();
    expect([r.applied, node.calls.length]).toEqual([false, before]);

    // A failed (partial) restore leads to a full sync, which deletes svc4's chains.
    node.failNextRestores = 1;
    proxier.onServiceDelete(svc4);
    r = await proxier.sync();
    expect([r.applied, r.full, r.error?.message]).toEqual([false, false, expect.stringContaining('iptables-restore failed')]);
    r = await proxier.sync();
    expect([r.applied, r.full, r.error?.message]).toEqual([true, true, undefined]);
    expect(last()).toBe(
      FILTER +
        '*nat\n' + HEAD + TOP +
        dedent(`
        :KUBE-SEP-AYCN5HPXMIRJNJXU - [0:0]
        :KUBE-SEP-DKCFIS26GWF2WLWC - [0:0]
        :KUBE-SEP-JVVZVJ7BSEPPRNBS - [0:0]
        :KUBE-SEP-SNQ3ZNILQDEJNDQO - [0:0]
        :KUBE-SVC-4SW47YFZTEDKD3PK - [0:0]
        :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
        :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
        `) +
        cip(1, '172.30.0.41', 80, 'KUBE-SVC-XPGD46QRK7WJZT7O') +
        cip(3, '172.30.0.43', 80, 'KUBE-SVC-X27LE4BHSL4DOUIK') +
        LAST + MASQ + svc3Chains +
        dedent(`
        -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ
        -A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80
        `) +
        svc3Svc +
        dedent(`
        -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
        -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO
        -X KUBE-SEP-AYCN5HPXMIRJNJXU
        -X KUBE-SVC-4SW47YFZTEDKD3PK
        COMMIT
        `),
    );
    proxier.close();
  });
});
