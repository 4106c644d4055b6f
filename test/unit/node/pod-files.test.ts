import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderHosts, renderResolvConf, nginxConf } from '../../../src/node/pod-files.js';
import { imageName, runPlan } from '../../../src/node/images.js';
import { formatLines, parseCriLine } from '../../../src/node/cri-log.js';
import { volumeFiles, writeAtomicVolume } from '../../../src/node/volumes.js';
import { sandboxBatches } from '../../../src/node/sandbox.js';
import { restartDelay } from '../../../src/node/pod-status.js';

const base = { namespace: 'default', clusterDomain: 'cluster.local', clusterDNS: '10.96.0.10', nodeResolvConf: 'search lab.example\nnameserver 192.168.10.1\noptions edns0\n' };

describe('resolv.conf', () => {
  it('ClusterFirst: the cluster DNS, the namespace search path, ndots:5', () => {
    expect(renderResolvConf({ ...base, dnsPolicy: 'ClusterFirst', nodeResolvConf: '' })).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });
  it("Default: the node's", () => {
    expect(renderResolvConf({ ...base, dnsPolicy: 'Default' })).toBe('search lab.example\nnameserver 192.168.10.1\noptions edns0\n');
  });
  it('None with dnsConfig: only what the pod says', () => {
    expect(
      renderResolvConf({ ...base, dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }] } }),
    ).toBe('search a.b\nnameserver 1.2.3.4\noptions ndots:2\n');
  });
});

describe('pod files', () => {
  it('writes the kubelet-managed hosts file', () => {
    const hosts = renderHosts('10.10.1.5', 'ngx-dep-abc-xyz12');
    expect(hosts.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n')).toBe(true);
    expect(hosts).toContain('10.10.1.5\tngx-dep-abc-xyz12\n');
  });
  it("keeps the official image's nginx.conf layout", () => {
    const conf = nginxConf('www-data');
    expect(conf).toContain('include /etc/nginx/conf.d/*.conf;');
    expect(conf).toContain('pid        /var/run/nginx.pid;');
    expect(conf).toContain('access_log  /dev/stdout  main;');
  });
});

describe('images', () => {
  it('names images without registry, tag or digest', () => {
    expect(imageName('nginx:alpine')).toBe('nginx');
    expect(imageName('docker.io/library/nginx:1.25@sha256:abc')).toBe('nginx');
    expect(imageName('localhost:5000/team/app')).toBe('app');
  });
  it('runs nginx as the image does and other images by their command', () => {
    expect(runPlan({ name: 'n', image: 'nginx:alpine' })).toEqual({ kind: 'nginx', argv: ['nginx', '-g', 'daemon off;'], stopSignal: 'SIGQUIT' });
    expect(runPlan({ name: 'c', image: 'busybox', command: ['sleep'], args: ['10'] })).toMatchObject({ argv: ['sleep', '10'] });
    expect(runPlan({ name: 'c', image: 'busybox' })).toMatchObject({ argv: ['sh'] });
    expect(runPlan({ name: 'c', image: 'example.com/app:1' })).toMatchObject({ kind: 'unrunnable', reason: 'ErrImagePull' });
  });
});

describe('CRI logs', () => {
  it('parse and format as kubectl logs shows them', () => {
    const lines = ['2026-11-25T07:00:00.000000000Z stdout F a', '2026-11-25T07:00:01.000000000Z stderr F b', '2026-11-25T07:00:02.000000000Z stdout P c']
      .map((l) => parseCriLine(l)!);
    expect(formatLines(lines, { follow: false, timestamps: false })).toBe('a\nb\nc');
    expect(formatLines(lines, { follow: false, timestamps: false, tailLines: 2 })).toBe('b\nc');
    expect(formatLines(lines, { follow: false, timestamps: true, tailLines: 1 })).toBe('2026-11-25T07:00:02.000000000Z c');
  });
});

describe('ConfigMap volumes', () => {
  it('lay out keys as the atomic writer does and swap ..data on update', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-vol-'));
    try {
      await writeAtomicVolume(path.join(dir, 'v'), volumeFiles({ 'default.conf': 'one', other: 'x' }));
      expect(readlinkSync(path.join(dir, 'v', 'default.conf'))).toBe('..data/default.conf');
      expect(readFileSync(path.join(dir, 'v', 'default.conf'), 'utf8')).toBe('one');
      await writeAtomicVolume(path.join(dir, 'v'), volumeFiles({ 'default.conf': 'two' }));
      expect(readFileSync(path.join(dir, 'v', 'default.conf'), 'utf8')).toBe('two');
      expect(readdirSync(path.join(dir, 'v')).sort()).toEqual(expect.arrayContaining(['..data', 'default.conf']));
      expect(readdirSync(path.join(dir, 'v'))).not.toContain('other');
      expect(readdirSync(path.join(dir, 'v')).filter((e) => e.startsWith('..2'))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('honour items', () => {
    expect(volumeFiles({ a: '1', b: '2' }, [{ key: 'b', path: 'sub/b.txt' }])).toEqual([{ path: 'sub/b.txt', content: '2' }]);
  });
});

describe('sandbox and restarts', () => {
  it('wires the pod into cni0 with hairpin, as flannel’s bridge CNI config does', () => {
    const b = sandboxBatches({ nodeNetns: 'n', netns: 'p', hostVeth: 'veth1234abcd', hostname: 'x', ip: '10.10.1.5', prefix: 24, gateway: '10.10.1.1' });
    expect(b.node).toContain('link set dev veth1234abcd type bridge_slave hairpin on');
    expect(b.pod).toContain('route add default via 10.10.1.1 dev eth0');
  });
  it("gives both veth ends flannel's MTU when the pod network sets one (vxlan: NIC MTU - 50)", () => {
    const b = sandboxBatches({ nodeNetns: 'n', netns: 'p', hostVeth: 'veth1234abcd', hostname: 'x', ip: '10.10.1.5', prefix: 24, gateway: '10.10.1.1', mtu: 1450 });
    expect(b.node[0]).toBe('link add veth1234abcd mtu 1450 type veth peer name eth0 mtu 1450 netns p');
  });
  it('leaves hairpin mode off on the pod port when the lab turns it off', () => {
    const b = sandboxBatches({ nodeNetns: 'n', netns: 'p', hostVeth: 'veth1234abcd', hostname: 'x', ip: '10.10.1.5', prefix: 24, gateway: '10.10.1.1', hairpin: false });
    expect(b.node).toContain('link set dev veth1234abcd type bridge_slave hairpin off');
  });
  it('back off 10 s doubling to 5 min, first restart at once', () => {
    expect([0, 1, 2, 3, 6, 9].map((n) => restartDelay(n, 1000))).toEqual([0, 10_000, 20_000, 40_000, 300_000, 300_000]);
    expect(restartDelay(5, 700_000)).toBe(0);
  });
});
