// The restore → iptables-save round trip (shared/notes/kube-proxy.md §1.12),
// checked against lines printed by iptables-nft 1.8.9 on this kind of node.
import { describe, expect, it } from 'vitest';
import { expectedSave, saveFormOfRule, saveString, splitRestoreLine } from '../../../src/proxy/save-form.js';
import { jumpRuleSaveForm, KUBE_PROXY_JUMPS, KUBELET_JUMPS, missingJumpLines } from '../../../src/proxy/node-setup.js';

describe('saveFormOfRule', () => {
  it.each([
    [
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-X',
      '-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-X',
    ],
    [
      '-A KUBE-SVC-X -m comment --comment "x" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-X ! -s 10.0.0.0/8 -d 172.30.0.43/32 -p tcp -m comment --comment x -m tcp --dport 80 -j KUBE-MARK-MASQ',
    ],
    ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'],
    ['-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000', '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0'],
    ['-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN', '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'],
    [
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ],
    [
      '-A KUBE-SEP-Y -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-Y -s 10.180.0.1/32 -m comment --comment "ns1/svc1:p80" -j KUBE-MARK-MASQ',
    ],
    [
      '-A KUBE-SEP-Y -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-Y --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80',
      '-A KUBE-SEP-Y -p tcp -m comment --comment "ns5/svc5:p80" -m recent --set --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.3:80',
    ],
    [
      '-A KUBE-SVC-X -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-Y --rcheck --seconds 10800 --reap -j KUBE-SEP-Y',
      '-A KUBE-SVC-X -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -j KUBE-SEP-Y',
    ],
    [
      '-A KUBE-SVC-X -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-Y',
      '-A KUBE-SVC-X -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-Y',
    ],
    [
      '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
      '-A KUBE-SERVICES -d 172.30.0.46/32 -p tcp -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    ],
    [
      '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ],
    [
      '-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp -d 127.0.0.0/8 --dport 3001 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-Z',
      '-A KUBE-NODEPORTS -d 127.0.0.0/8 -p tcp -m comment --comment "ns2/svc2:p80" -m tcp --dport 3001 -m nfacct --nfacct-name  localhost_nps_accepted_pkts -j KUBE-EXT-Z',
    ],
    [
      '-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP',
      '-A KUBE-NODEPORTS -p tcp -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 3001 -j DROP',
    ],
    [
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS',
      '-A KUBE-SERVICES ! -d 127.0.0.0/8 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ],
    [
      '-A KUBE-FW-X -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
      '-A KUBE-FW-X -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
    ],
    ['-I INPUT 1 -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL', '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'],
  ])('%s', (input, saved) => {
    expect(saveFormOfRule(input)).toBe(saved);
  });

  it('quotes like xtables_save_string', () => {
    expect(saveString('x')).toBe('x');
    expect(saveString('KUBE-SEP_1')).toBe('KUBE-SEP_1');
    expect(saveString('default/ngx-svc')).toBe('"default/ngx-svc"');
    expect(saveString('')).toBe('""');
    expect(saveString('say "hi"')).toBe('"say \\"hi\\""');
  });

  it('splits restore lines on spaces outside quotes', () => {
    expect(splitRestoreLine('-A X -m comment --comment "a b" -j Y')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']);
  });
});

describe('jump rules', () => {
  it('end up in the order a real node shows (notes §1.1)', () => {
    const lines = missingJumpLines(undefined);
    const filter = expectedSave([`*filter\n:KUBE-EXTERNAL-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-FORWARD - [0:0]\n:KUBE-PROXY-FIREWALL - [0:0]\n:KUBE-FIREWALL - [0:0]\n${lines.filter.join('\n')}\nCOMMIT\n`], 'filter');
    const rules = (chain: string) => filter.split('\n').filter((l) => l.startsWith(`-A ${chain} `)).map((l) => l.replace(/.* -j /, ''));
    expect(rules('INPUT')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL']);
    expect(rules('FORWARD')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-FORWARD', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']);
    expect(rules('OUTPUT')).toEqual(['KUBE-PROXY-FIREWALL', 'KUBE-SERVICES', 'KUBE-FIREWALL']);
    const nat = expectedSave([`*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\n${lines.nat.join('\n')}\nCOMMIT\n`], 'nat');
    expect(nat).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(nat).toContain('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(nat).toContain('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n');
  });

  it('are not inserted again when iptables-save already shows them', () => {
    const saved = ['*filter', ...[...KUBELET_JUMPS, ...KUBE_PROXY_JUMPS].filter((j) => j.table === 'filter').map(jumpRuleSaveForm), 'COMMIT', '*nat', ...KUBE_PROXY_JUMPS.filter((j) => j.table === 'nat').map(jumpRuleSaveForm), 'COMMIT'].join('\n');
    expect(missingJumpLines(saved)).toEqual({ filter: [], nat: [] });
  });
});
