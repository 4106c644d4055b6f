// The cluster DNS on a real lab, asked by real dig, nslookup and curl inside
// a pod: the coredns pods behind kube-dns, the names a cluster answers, the
// outside resolver host, and DNS failing and coming back with its pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { courseLabYaml, readyPodRows, until, upLab } from '../helpers/course.js';

const MANIFESTS = path.resolve(import.meta.dirname, '../../../shared/reference/manifests');
const LAB = 'it-dns';


const EXTRA = `apiVersion: v1
kind: Service
metadata: {name: ngx-headless}
spec:
  clusterIP: None
  selector: {app: ngx-dep}
  ports: [{name: http, port: 80, targetPort: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: ngx-named}
spec:
  selector: {app: ngx-dep}
  ports: [{name: http, port: 8080, targetPort: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: outside}
spec:
  type: ExternalName
  externalName: example.com
`;

describe('cluster DNS', () => {
  let sb: Sandbox;
  let pod = '';
  let podIPs: string[] = [];
  let clusterIP = '';

  const inPod = (cmd: string[]) => sb.kubectl(['exec', pod, '--', ...cmd]);
  const dig = async (...args: string[]) => (await inPod(['dig', '+time=2', '+tries=1', ...args])).stdout;

  beforeAll(async () => {
    sb = sandbox();
    await upLab(
      sb,
      LAB,
      courseLabYaml(LAB, {
        hosts: '  - name: resolver\n    nics: [{network: lan, address: 192.168.10.53}]\n    dnsRecords: {example.com: 203.0.113.10}\n',
      }),
    );
    writeFileSync(path.join(sb.dir, 'extra.yaml'), EXTRA);
    const apply = await sb.kubectl(['apply', '-f', path.join(MANIFESTS, 'ngx-conf.yml'), '-f', path.join(MANIFESTS, 'ngx-dep.yml'), '-f', path.join(MANIFESTS, 'ngx-svc.yml'), '-f', path.join(sb.dir, 'extra.yaml')]);
    expect(apply.exitCode, apply.stderr).toBe(0);
    const ready = await readyPodRows(sb, 'app=ngx-dep', 2);
    pod = ready[0]?.[0] ?? '';
    podIPs = ready.map((c) => c[5] ?? '').sort();
    clusterIP = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  });

  afterAll(async () => {
    await sb.nslab(['down', LAB]);
    sb.cleanup();
  });

  it('runs coredns pods in kube-system behind kube-dns 10.96.0.10', async () => {
    const svc = await sb.kubectl(['get', 'svc', '-n', 'kube-system', 'kube-dns', '--no-headers']);
    expect(rows(svc.stdout)[0]).toEqual(['kube-dns', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP,9153/TCP', expect.any(String)]);
    const pods = await sb.kubectl(['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '--no-headers']);
    const p = rows(pods.stdout);
    expect(p).toHaveLength(2);
    for (const c of p) {
      expect(c[0]).toMatch(/^coredns-[a-z0-9]+-[a-z0-9]{5}$/);
      expect(c.slice(1, 3)).toEqual(['1/1', 'Running']);
    }
  });

  it('gives pods the resolv.conf a kubelet writes for ClusterFirst', async () => {
    // (execa drops the last newline)
    expect((await inPod(['cat', '/etc/resolv.conf'])).stdout).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5',
    );
  });

  it('resolves the course names for curl', async () => {
    for (const name of ['ngx-svc', 'ngx-svc.default', 'ngx-svc.default.svc.cluster.local', `${podIPs[0]!.replaceAll('.', '-')}.default.pod`]) {
      const r = await inPod(['curl', '-s', '-m', '3', `http://${name}/`]);
      expect(r.stdout, name).toMatch(/^srv : 10\.10\.\d+\.\d+:80\nhost: ngx-dep-/);
    }
  });

  it('answers A authoritatively with TTL 30 and no recursion, over UDP and TCP', async () => {
    for (const proto of ['+notcp', '+tcp']) {
      const out = await dig(proto, 'ngx-svc.default.svc.cluster.local');
      expect(out).toContain('status: NOERROR');
      expect(out).toMatch(/flags: qr aa rd;/);
      expect(out).toMatch(new RegExp(`ngx-svc\\.default\\.svc\\.cluster\\.local\\.\\s+30\\s+IN\\s+A\\s+${clusterIP.replaceAll('.', '\\.')}`));
      expect(out).toContain(proto === '+tcp' ? '(TCP)' : '(UDP)');
    }
  });

  it('answers a headless Service with one A per ready pod, SRV for named ports, PTR for addresses', async () => {
    expect((await dig('+short', 'ngx-headless.default.svc.cluster.local')).trim().split('\n').sort()).toEqual(podIPs);
    expect((await dig('+short', 'SRV', '_http._tcp.ngx-named.default.svc.cluster.local')).trim()).toBe('0 100 8080 ngx-named.default.svc.cluster.local.');
    const srv = (await dig('+short', 'SRV', '_http._tcp.ngx-headless.default.svc.cluster.local')).trim().split('\n').sort();
    expect(srv).toEqual(podIPs.map((ip) => `0 50 80 ${ip.replaceAll('.', '-')}.ngx-headless.default.svc.cluster.local.`).sort());
    expect((await dig('+short', '-x', clusterIP)).trim()).toBe('ngx-svc.default.svc.cluster.local.');
  });

  it('answers ExternalName with a CNAME and the outside name through the resolver host', async () => {
    const out = await dig('outside.default.svc.cluster.local');
    expect(out).toMatch(/outside\.default\.svc\.cluster\.local\.\s+30\s+IN\s+CNAME\s+example\.com\./);
    expect(out).toMatch(/example\.com\.\s+\d+\s+IN\s+A\s+203\.0\.113\.10/);
    expect((await dig('+short', 'example.com')).trim()).toBe('203.0.113.10');
  });

  it('tells NXDOMAIN from NODATA, with the SOA in both', async () => {
    const soa = /cluster\.local\.\s+30\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30/;
    const nx = await dig('nope.default.svc.cluster.local');
    expect(nx).toContain('status: NXDOMAIN');
    expect(nx).toMatch(soa);
    const nodata = await dig('AAAA', 'ngx-svc.default.svc.cluster.local');
    expect(nodata).toContain('status: NOERROR');
    expect(nodata).toContain('ANSWER: 0');
    expect(nodata).toMatch(soa);
    const n = await inPod(['nslookup', 'ngx-svc']);
    expect(n.stdout).toMatch(/Name:\s+ngx-svc\.default\.svc\.cluster\.local\nAddress: /);
  });

  it('exports Prometheus metrics on 9153', async () => {
    const ip = (await sb.kubectl(['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[0].status.podIP}'])).stdout;
    const m = (await inPod(['curl', '-s', '-m', '3', `http://${ip}:9153/metrics`])).stdout;
    expect(m).toMatch(/^coredns_dns_requests_total\{.*\} \d+/m);
    expect(m).toMatch(/^coredns_dns_responses_total\{.*rcode="NOERROR".*\} \d+/m);
    expect(m).toContain('coredns_dns_request_duration_seconds_bucket');
  });

  it('keeps answering through a rollout restart of coredns', async () => {
    const r = await sb.kubectl(['-n', 'kube-system', 'rollout', 'restart', 'deployment', 'coredns']);
    expect(r.exitCode, r.stderr).toBe(0);
    for (let i = 0; i < 20; i++) {
      const c = await inPod(['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', 'http://ngx-svc/']);
      expect(c.stdout, `try ${i}: ${c.stderr}`).toBe('200');
    }
    const status = await sb.kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment', 'coredns', '--timeout=20s'], { timeoutMs: 30_000 });
    expect(status.stdout).toContain('successfully rolled out');
  });

  it('moves a client that keeps its UDP source port off a deleted coredns pod (kube-proxy clears stale flows)', async () => {
    const q = ['dig', '-b', '0.0.0.0#5555', '+time=1', '+tries=1', '+short', 'kubernetes.default.svc.cluster.local'];
    expect((await inPod(q)).stdout.trim()).toBe('10.96.0.1');
    const node = (await sb.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).stdout;
    const flow = async () => (await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'conntrack', '-L', '-p', 'udp', '--orig-port-src', '5555'])).stdout;
    const served = /dport=53 src=(10\.10\.\d+\.\d+)/.exec(await flow())?.[1] ?? '';
    expect(served).not.toBe('');
    const victim = rows((await sb.kubectl(['get', 'pod', '-n', 'kube-system', '-o', 'wide', '--no-headers'])).stdout).find((c) => c[5] === served)?.[0] ?? '';
    expect((await sb.kubectl(['delete', 'pod', '-n', 'kube-system', victim, '--wait=false'])).exitCode).toBe(0);
    // Through the lameduck the old pod answers; once it is gone, the same source port reaches another pod.
    const moved = await until('the flow on another coredns pod', async () => {
      const answer = (await inPod(q)).stdout.trim();
      const now = /dport=53 src=(10\.10\.\d+\.\d+)/.exec(await flow())?.[1];
      return answer === '10.96.0.1' && now && now !== served ? now : undefined;
    }, 20_000, 300);
    expect(moved).not.toBe(served);
  });

  it('fails as a cluster does while no coredns pod runs, and comes back with them', async () => {
    const scale = await sb.kubectl(['-n', 'kube-system', 'scale', 'deployment', 'coredns', '--replicas=0']);
    expect(scale.exitCode, scale.stderr).toBe(0);
    await until('no kube-dns endpoints', async () => {
      const ep = await sb.kubectl(['get', 'endpoints', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.subsets}']);
      return ep.stdout === '' ? true : undefined;
    });
    // Terminating pods keep answering for their lameduck (5 s) and kube-proxy
    // still sends to them while no pod is ready; then they are gone.
    await until('the coredns pods gone', async () => {
      const p = await sb.kubectl(['get', 'pod', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '--no-headers']);
      return p.exitCode === 0 && p.stdout.trim() === '' ? true : undefined;
    });
    const down = await inPod(['curl', '-sS', '-m', '5', 'http://ngx-svc/']);
    expect(down.exitCode).toBe(6);
    expect(down.stderr).toContain('Could not resolve host: ngx-svc');
    await sb.kubectl(['-n', 'kube-system', 'scale', 'deployment', 'coredns', '--replicas=2']);
    const back = await until('DNS back', async () => {
      const c = await inPod(['curl', '-s', '-m', '3', 'http://ngx-svc/']);
      return c.exitCode === 0 ? c.stdout : undefined;
    });
    expect(back).toMatch(/^srv : /);
  });
});
