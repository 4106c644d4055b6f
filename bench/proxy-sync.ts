// A full kube-proxy sync of SERVICES ClusterIP Services with 2 endpoints each
// (1,000 by default) on one node netns, in iptables mode and in nftables mode
// in the same run: the render (pure) and the apply (one iptables-restore,
// resp. one `nft -f` transaction), then a partial sync after one endpoint
// changes, and a sync with nothing to do. Each round uses a fresh netns of
// its own, removed at the end; the root netns is not touched. On a kernel
// with IP_VS (the scripts/vm.sh guest: `sudo ./scripts/vm.sh node
// dist/bench/proxy-sync.js 1000 1`) ipvs mode is measured beside them: one
// ipset restore, one ip -batch, one ipvsadm --restore, one iptables-restore.
// Usage (root): node dist/bench/proxy-sync.js [SERVICES] [ROUNDS]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { KubeObject } from '../src/api/types.js';
import { buildProxyState, renderIptables, type IptablesProxyConfig } from '../src/proxy/iptables.js';
import { IptablesProxier } from '../src/proxy/iptables-proxier.js';
import { NftablesProxier } from '../src/proxy/nftables-proxier.js';
import { IpvsProxier } from '../src/proxy/ipvs-proxier.js';
import { formatIpvsRender, renderIpvs } from '../src/proxy/ipvs.js';
import { probeIpvsKernel } from '../src/sys/kernel-features.js';
import { renderNftables } from '../src/proxy/nftables.js';
import { nftTransaction } from '../src/proxy/nft-transaction.js';
import type { ProxySyncLoop } from '../src/proxy/sync-loop.js';
import { ExecaRunner } from '../src/sys/runner.js';

const SERVICES = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const DEADLINE = Date.now() + Number(process.env['BENCH_DEADLINE_S'] ?? 120) * 1000;

function ip(base: number, i: number): string {
  const n = base + i;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function objects(changed = false): { services: KubeObject[]; slices: KubeObject[] } {
  const services: KubeObject[] = [];
  const slices: KubeObject[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'bench' },
      spec: { type: 'ClusterIP', clusterIP: ip(0x0a600000 + 256, i), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    const a = ip(0x0a0a0000 + 2, 2 * i);
    const b = changed && i === 0 ? '10.11.255.254' : ip(0x0a0a0000 + 2, 2 * i + 1);
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-x1`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [a, b].map((addr, k) => ({ addresses: [addr], conditions: { ready: true }, nodeName: k ? 'node-b' : 'node-a' })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
  }
  return { services, slices };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');

const cfg: IptablesProxyConfig = { nodeName: 'node-a', nodeIP: '192.168.10.210', clusterCIDR: '10.10.0.0/16' };
const runner = new ExecaRunner();
const { services, slices } = objects();
const changed = objects(true);

interface Steps {
  total: number[];
  render: number[];
  apply: number[];
}
interface ModeResult {
  renderTimes: number[];
  payloadBytes: number;
  lines: number;
  full: Steps;
  partial: Steps;
  noop: number[];
  kernelObjects: string;
}

const inNode = (netns: string, argv: string[]) => execFileSync('nsenter', [`--net=/run/netns/${netns}`, '--', ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });

async function benchMode(
  render: () => string,
  make: (netns: string) => ProxySyncLoop,
  count: (netns: string) => string,
): Promise<ModeResult> {
  const res: ModeResult = { renderTimes: [], payloadBytes: 0, lines: 0, full: { total: [], render: [], apply: [] }, partial: { total: [], render: [], apply: [] }, noop: [], kernelObjects: '' };
  // Render alone: objects → state → transaction text.
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const text = render();
    res.renderTimes.push(performance.now() - t0);
    res.payloadBytes = Buffer.byteLength(text);
    res.lines = text.split('\n').length;
  }
  for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
    const netns = `nslab-bench${randomBytes(3).toString('hex')}.node-a`;
    execFileSync('ip', ['netns', 'add', netns]);
    const proxier = make(netns);
    try {
      let t0 = performance.now();
      let r = await proxier.sync(services, slices);
      res.full.total.push(performance.now() - t0);
      if (r.error) throw r.error;
      res.full.render.push(r.renderMs);
      res.full.apply.push(r.applyMs);

      t0 = performance.now();
      r = await proxier.sync(changed.services, changed.slices);
      res.partial.total.push(performance.now() - t0);
      if (r.error) throw r.error;
      if (r.full) throw new Error('the sync after one change was a full one');
      res.partial.render.push(r.renderMs);
      res.partial.apply.push(r.applyMs);

      t0 = performance.now();
      r = await proxier.sync(changed.services, changed.slices);
      res.noop.push(performance.now() - t0);
      if (r.applied) throw new Error('a sync with nothing to do ran a transaction');
      if (round === 0) res.kernelObjects = count(netns);
    } finally {
      proxier.close();
      execFileSync('ip', ['netns', 'del', netns]);
    }
  }
  return res;
}

const ipt = await benchMode(
  () => renderIptables(buildProxyState(services, slices, cfg.nodeName), cfg).restore,
  (netns) => new IptablesProxier({ ...cfg, netns, runner, minSyncIntervalMs: 0 }),
  (netns) => `nat rules in the kernel: ${inNode(netns, ['iptables-save', '-t', 'nat']).split('\n').filter((l) => l.startsWith('-A ')).length}`,
);
const nftCfg = { ...cfg, serviceCIDRs: ['10.96.0.0/12'] };
const nft = await benchMode(
  () =>
    nftTransaction(renderNftables(buildProxyState(services, slices, cfg.nodeName), nftCfg), {
      full: true,
      changedServices: new Set(),
      existingChains: new Set(),
      staleChains: new Set(),
      existingAffinitySets: new Set(),
      written: new Map(),
    }).script,
  (netns) => new NftablesProxier({ ...nftCfg, netns, runner, minSyncIntervalMs: 0 }),
  (netns) => {
    const listing = inNode(netns, ['nft', 'list', 'table', 'ip', 'kube-proxy']);
    return `chains in table ip kube-proxy: ${listing.split('\n').filter((l) => /^\tchain /.test(l)).length}`;
  },
);

const ipvsKernel = await probeIpvsKernel(runner);
const ipvs =
  ipvsKernel.ipVs && ipvsKernel.dummy
    ? await benchMode(
        () => formatIpvsRender(renderIpvs(buildProxyState(services, slices, cfg.nodeName), { ...cfg, nodeIPs: [] })),
        (netns) => new IpvsProxier({ ...cfg, nodeIP: cfg.nodeIP ?? '', clusterCIDR: cfg.clusterCIDR ?? '', netns, runner, minSyncIntervalMs: 0 }),
        (netns) => `IPVS virtual servers: ${inNode(netns, ['ipvsadm', '-Sn']).split('\n').filter((l) => l.startsWith('-A ')).length}`,
      )
    : undefined;

const iptVersion = execFileSync('iptables', ['--version'], { encoding: 'utf8' }).trim();
const nftVersion = execFileSync('nft', ['--version'], { encoding: 'utf8' }).trim();
console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${os.release()}, node ${process.version}, ${iptVersion}, ${nftVersion}`);
console.log(`date: ${new Date().toISOString()}`);
console.log(`${SERVICES} ClusterIP Services x 2 endpoints`);
console.log(`iptables: restore input ${(ipt.payloadBytes / 1024).toFixed(0)} KiB, ${ipt.lines} lines; ${ipt.kernelObjects}`);
console.log(`nftables: full-sync script ${(nft.payloadBytes / 1024).toFixed(0)} KiB, ${nft.lines} lines; ${nft.kernelObjects}`);
if (ipvs) console.log(`ipvs: full-sync scripts ${(ipvs.payloadBytes / 1024).toFixed(0)} KiB, ${ipvs.lines} lines; ${ipvs.kernelObjects}`);
else console.log(`ipvs: not measured (kernel ${ipvsKernel.release} has no IP_VS or dummy link type; run it under scripts/vm.sh)`);
const modes = ipvs ? [ipt, nft, ipvs] : [ipt, nft];
const row = (what: string, pick: (m: ModeResult) => number[]) =>
  console.log(`| ${what} | ${modes.map((m) => median(pick(m)).toFixed(1)).join(' | ')} | ${modes.map((m) => fmt(pick(m))).join(' / ')} |`);
console.log(`| step | iptables median (ms) | nftables median (ms) |${ipvs ? ' ipvs median (ms) |' : ''} runs ${ipvs ? 'iptables / nftables / ipvs' : 'iptables / nftables'} (ms) |`);
console.log(`|---|---|---|${ipvs ? '---|' : ''}---|`);
row('render (objects → transaction text)', (m) => m.renderTimes);
row('full sync: render', (m) => m.full.render);
row('full sync: apply (iptables-restore / nft -f / ipset+ip+ipvsadm+iptables-restore)', (m) => m.full.apply);
row('full sync: total (incl. listing the kernel state, nfacct/sysctl)', (m) => m.full.total);
row('partial sync after 1 endpoint change: render', (m) => m.partial.render);
row('partial sync: apply', (m) => m.partial.apply);
row('partial sync: total', (m) => m.partial.total);
row('sync with nothing changed (no command)', (m) => m.noop);
