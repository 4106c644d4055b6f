// Seeing the packet on a real lab (the course lab with its NodePort, in
// iptables mode and again in nftables mode): `nslab graph` draws its pods and
// Services, `nslab capture` sees the SYN of a curl and stops with the lab,
// and `nslab trace` follows one real probe through the kernel's nf_tables
// trace: pod -> ClusterIP (local and remote endpoint), console -> NodePort on
// each node, a pod to its own Service (hairpin), ping of a ClusterIP, a
// Service with no endpoints (REJECT), a refused port; every trace table is
// gone afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, sandbox, type Sandbox } from '../helpers/cli.js';
import { readyPodRows } from '../helpers/course.js';
import { labNetns, rootNetnsSnapshot } from '../helpers/root-snapshot.js';

interface Hop {
  label: string;
  hooks: string[];
  end: string;
  steps: Array<{ table: string; chain: string; rule?: string; comment?: string; verdict: string }>;
  in?: { saddr?: string; daddr?: string; dport?: number };
  out?: { daddr?: string; dport?: number };
  route?: string;
  conntrack?: string[];
}
interface Report {
  hops: Hop[];
  outcome: { result: string; summary: string };
  traced: string[];
  leftover: string[];
}

const EMPTY_SVC = `apiVersion: v1
kind: Service
metadata: {name: empty-svc}
spec:
  selector: {app: nothing-has-this-label}
  ports: [{port: 8080, targetPort: 8080, protocol: TCP}]
`;

async function traceTables(): Promise<string[]> {
  const out: string[] = [];
  for (const ns of await labNetns('nslab-')) {
    const r = await execa('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { reject: false });
    if (String(r.stdout).includes('nslab-trace-')) out.push(ns);
  }
  return out;
}

for (const mode of ['iptables', 'nftables'] as const) {
  const LAB = mode === 'iptables' ? 'course-nodeport' : 'course-nftables';
  const LAB_FILE = path.join(ROOT, 'labs', `${LAB}.yaml`);

  describe(`see the packet in ${mode} mode`, () => {
    let sb: Sandbox;
    let pods: Array<{ name: string; ip: string; node: string }> = [];
    let clusterIP = '';
    let nodePort = '';
    let rootBefore: Record<string, string> = {};

    const trace = async (from: string, to: string, extra: string[] = []): Promise<Report> => {
      const r = await sb.nslab(['trace', '--lab', LAB, from, to, '-o', 'json', ...extra], { timeoutMs: 60_000 });
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as Report;
      writeFileSync(path.join('/tmp', `trace-${mode}-${from.replace(/\W/g, '_')}-${to.replace(/\W/g, '_')}${extra.join('')}.json`), r.stdout);
      expect(report.leftover).toEqual([]);
      return report;
    };
    const podOn = (node: string) => pods.find((p) => p.node === node)!;

    beforeAll(async () => {
      rootBefore = await rootNetnsSnapshot();
      sb = sandbox();
      const up = await sb.nslab(['up', LAB_FILE], { timeoutMs: 120_000 });
      expect(up.exitCode, up.stdout + up.stderr).toBe(0);
      pods = (await readyPodRows(sb, 'app=ngx-dep', 2)).map((c) => ({ name: c[0] ?? '', ip: c[5] ?? '', node: c[6] ?? '' }));
      clusterIP = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
      nodePort = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
      writeFileSync(path.join(sb.dir, 'empty.yaml'), EMPTY_SVC);
      const apply = await sb.kubectl(['apply', '-f', path.join(sb.dir, 'empty.yaml')]);
      expect(apply.exitCode, apply.stderr).toBe(0);
    }, 180_000);

    afterAll(async () => {
      // A capture with no packet bound is a lab process: `nslab down` ends it.
      const cap = sb.nslab(['capture', '--lab', LAB, 'node/master', '--seconds', '120', 'tcp port 9'], { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, 1500));
      await sb.nslab(['down', LAB], { timeoutMs: 60_000 });
      const started = Date.now();
      const ended = await cap;
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(ended.exitCode).not.toBe(124);
      sb.cleanup();
      expect(await labNetns(`nslab-${LAB}.`)).toEqual([]);
      expect(await rootNetnsSnapshot()).toEqual(rootBefore);
    }, 90_000);

    it('nslab graph draws the running lab: nodes, pods with their IPs, the Service with its endpoints', async () => {
      const r = await sb.nslab(['graph', LAB]);
      expect(r.exitCode, r.stderr).toBe(0);
      writeFileSync(`/tmp/graph-${mode}.mmd`, r.stdout);
      expect(r.stdout).toMatch(/^flowchart LR\n/);
      for (const p of pods) expect(r.stdout).toContain(`pod default/${p.name}<br/>${p.ip}`);
      expect(r.stdout).toContain(`svc default/ngx-svc<br/>NodePort ${clusterIP}<br/>80/TCP nodePort ${nodePort}`);
      expect(r.stdout.match(/svc__default__ngx_svc -->\|"80"\| pod__default__ngx_dep/g)).toHaveLength(2);
      const dot = await sb.nslab(['graph', LAB, '-f', 'dot']);
      expect(dot.stdout).toMatch(/^graph "nslab [a-z-]+" \{/);
    });

    it('nslab capture sees the SYN of a curl, bounded by count and time', async () => {
      const cap = sb.nslab(['capture', '--lab', LAB, `pod/${podOn('worker').name}`, '-c', '1', '--seconds', '10', 'tcp[tcpflags] & tcp-syn != 0'], { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 1500));
      // The node routes to the pod network; the console does not (its default route ends at the lab's router).
      await sb.nslab(['exec', '--lab', LAB, 'node/master', '--', 'curl', '-s', '-m', '2', `http://${podOn('worker').ip}/`]);
      const r = await cap;
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`IP [\\d.]+ > ${podOn('worker').ip.replace(/\./g, '\\.')}\\.80: Flags \\[S\\]`));
    }, 30_000);

    it('nslab trace: pod -> ClusterIP reaches the local and the remote endpoint, rule by rule', async () => {
      const from = podOn('master');
      const seen = new Set<string>();
      for (let i = 0; i < 16 && seen.size < 2; i++) {
        const r = await trace(`pod/${from.name}`, 'svc/ngx-svc:80');
        expect(r.outcome.result).toBe('answered');
        const last = r.hops[r.hops.length - 1]!;
        expect(last.label).toMatch(/^pod default\/ngx-dep/);
        expect(last.end).toBe('delivered');
        seen.add(last.label === `pod default/${from.name}` ? 'local' : 'remote');
        const master = r.hops.find((h) => h.label === 'node master')!;
        expect(master.steps.some((s) => /dnat|DNAT/.test(s.rule ?? ''))).toBe(true);
        if (mode === 'iptables') expect(master.steps.map((s) => s.comment)).toContain('default/ngx-svc cluster IP');
      }
      expect([...seen].sort()).toEqual(['local', 'remote']);
    }, 240_000);

    it('nslab trace: console -> NodePort on each node', async () => {
      for (const node of ['master', 'worker']) {
        const r = await trace('host/console', `node/${node}:${nodePort}`);
        expect(r.outcome.result).toBe('answered');
        expect(r.hops[0]!.label).toBe('host console');
        expect(r.hops.map((h) => h.label)).toContain(`node ${node}`);
      }
    }, 120_000);

    it('nslab trace: a pod to its own Service (hairpin) is answered', async () => {
      const r = await trace(`pod/${podOn('worker').name}`, `${clusterIP}:80`);
      expect(r.outcome.result).toBe('answered');
    }, 60_000);

    it('nslab trace: ping of the ClusterIP', async () => {
      const r = await trace(`pod/${podOn('master').name}`, clusterIP, ['--proto', 'icmp']);
      if (mode === 'iptables') {
        expect(r.outcome.summary).toBe(`no answer: no rule matched; routed to node master's default gateway 192.168.10.1 (dev eth0); dropped there`);
      } else {
        // nftables mode answers what iptables mode drops: the ClusterIP has no ICMP.
        expect(r.outcome.summary).toBe('refused: rejected by rule "Reject traffic to invalid ports of ClusterIPs" in node master');
      }
    }, 60_000);

    it('nslab trace: a Service with no endpoints is rejected, a closed port refused', async () => {
      const r = await trace(`pod/${podOn('master').name}`, 'svc/empty-svc:8080');
      expect(r.outcome.result).toBe('refused');
      expect(r.outcome.summary).toBe(
        mode === 'iptables' ? 'refused: rejected by rule "default/empty-svc has no endpoints" in node master' : 'refused: rejected by rule "reject" (chain reject-chain) in node master',
      );
      const closed = await trace(`pod/${podOn('master').name}`, `${podOn('worker').ip}:81`);
      expect(closed.outcome.result).toBe('refused');
      expect(closed.outcome.summary).toContain(`pod default/${podOn('worker').name}`);
    }, 60_000);

    it('leaves no trace table anywhere, and a capture stops with the lab', async () => {
      expect(await traceTables()).toEqual([]);
    });
  });
}
