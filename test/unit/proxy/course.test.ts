// The course's Service (reference/manifests/ngx-svc.yml) as kube-proxy would
// program it on the lab's worker: ClusterIP 10.96.240.115:80 in front of two
// nginx pods, one per node, then the same Service as type NodePort (30651 in
// the course). Goldens hold the restore input and what iptables-save prints.
import { describe, expect, it } from 'vitest';
import { renderIptablesRestore, type IptablesProxyConfig } from '../../../src/proxy/iptables.js';
import { expectedSave } from '../../../src/proxy/save-form.js';
import { fullSyncExtras, kubeProxySysctls } from '../../../src/proxy/node-setup.js';
import { expectGolden } from '../../helpers/golden.js';
import { checkRuleJumps, makeService, makeSlice, runFlows } from './upstream.js';

const worker: IptablesProxyConfig = {
  nodeName: 'worker',
  nodeIP: '192.168.10.220',
  clusterCIDR: '10.10.0.0/16',
  nfacct: { ctStateInvalidDropped: true, localhostNodePortsAccepted: true },
};

function ngxSvc(type: 'ClusterIP' | 'NodePort') {
  return makeService('default', 'ngx-svc', {
    type,
    clusterIP: '10.96.240.115',
    clusterIPs: ['10.96.240.115'],
    selector: { app: 'ngx-dep' },
    sessionAffinity: 'None',
    externalTrafficPolicy: type === 'NodePort' ? 'Cluster' : undefined,
    internalTrafficPolicy: 'Cluster',
    ports: [{ port: 80, targetPort: 80, protocol: 'TCP', ...(type === 'NodePort' ? { nodePort: 30651 } : {}) }],
  });
}

const slice = makeSlice(
  'default',
  'ngx-svc',
  1,
  [
    { ip: '10.10.0.5', node: 'master', ready: true, serving: true, terminating: false },
    { ip: '10.10.1.6', node: 'worker', ready: true, serving: true, terminating: false },
  ],
  [{ name: '', port: 80, protocol: 'TCP' }],
);

describe('ngx-svc on the worker', () => {
  it('ClusterIP: restore input and iptables-save form', () => {
    const restore = renderIptablesRestore([ngxSvc('ClusterIP')], [slice], worker);
    expect(checkRuleJumps(restore)).toEqual([]);
    expect(restore).toContain('-A KUBE-SERVICES -m comment --comment "default/ngx-svc cluster IP" -m tcp -p tcp -d 10.96.240.115 --dport 80 -j KUBE-SVC-');
    expect(restore).toContain('-m statistic --mode random --probability 0.5000000000');
    expectGolden('proxy/ngx-svc-clusterip.restore', restore);
    const extras = fullSyncExtras(undefined, (t, c) => t === 'filter' && c === 'KUBE-FIREWALL');
    expectGolden('proxy/ngx-svc-clusterip.nat.save', expectedSave([restore, extras], 'nat'));
    expectGolden('proxy/ngx-svc-clusterip.filter.save', expectedSave([restore, extras], 'filter'));
    const flows = runFlows(
      restore,
      [
        { name: 'pod to ClusterIP: both pods, no SNAT', sourceIP: '10.10.1.9', destIP: '10.96.240.115', destPort: 80, output: '10.10.0.5:80, 10.10.1.6:80' },
        { name: 'a pod reaching itself is SNATed (hairpin)', sourceIP: '10.10.1.6', destIP: '10.96.240.115', destPort: 80, output: '10.10.0.5:80, 10.10.1.6:80', masq: true },
        { name: 'node to ClusterIP is SNATed', sourceIP: '192.168.10.220', destIP: '10.96.240.115', destPort: 80, output: '10.10.0.5:80, 10.10.1.6:80', masq: true },
        { name: 'ping-like: other port, nothing', sourceIP: '10.10.1.9', destIP: '10.96.240.115', destPort: 8080, output: '' },
      ],
      ['192.168.10.220'],
    );
    for (const f of flows) expect(f.got, f.name).toBe(f.want);
  });

  it('NodePort: restore input and iptables-save form', () => {
    const restore = renderIptablesRestore([ngxSvc('NodePort')], [slice], worker);
    expect(checkRuleJumps(restore)).toEqual([]);
    expect(restore).toContain('-A KUBE-NODEPORTS -m comment --comment default/ngx-svc -m tcp -p tcp --dport 30651 -j KUBE-EXT-');
    expectGolden('proxy/ngx-svc-nodeport.restore', restore);
    const extras = fullSyncExtras(undefined, (t, c) => t === 'filter' && c === 'KUBE-FIREWALL');
    expectGolden('proxy/ngx-svc-nodeport.nat.save', expectedSave([restore, extras], 'nat'));
    const flows = runFlows(
      restore,
      [
        { name: 'console host to NodePort, SNATed', sourceIP: '192.168.10.208', destIP: '192.168.10.220', destPort: 30651, output: '10.10.0.5:80, 10.10.1.6:80', masq: true },
        { name: 'localhost NodePort', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 30651, output: '10.10.0.5:80, 10.10.1.6:80', masq: true },
      ],
      ['192.168.10.220'],
    );
    for (const f of flows) expect(f.got, f.name).toBe(f.want);
  });

  it('without endpoints the ClusterIP is rejected in filter', () => {
    const restore = renderIptablesRestore([ngxSvc('ClusterIP')], [], worker);
    expect(restore).toContain('-A KUBE-SERVICES -m comment --comment "default/ngx-svc has no endpoints" -m tcp -p tcp -d 10.96.240.115 --dport 80 -j REJECT\n');
    expect(restore).not.toContain('KUBE-SVC-');
  });

  it('sets route_localnet as kube-proxy does for localhost NodePorts', () => {
    expect(kubeProxySysctls(worker)).toEqual([{ key: 'net.ipv4.conf.all.route_localnet', value: '1' }]);
    expect(kubeProxySysctls({ localhostNodePorts: false })).toEqual([]);
  });
});
