// The course's Service on a real lab, driven by the real kubectl: ClusterIP
// allocation, endpoints, kube-proxy's rules on every node, load balancing
// and hairpin from a pod, ping getting no answer, REJECT without endpoints,
// NodePort from the console, and the rules following a deleted pod.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { rows, sandbox, type Sandbox } from '../helpers/cli.js';
import { courseLabYaml, readyPodRows, until, upLab } from '../helpers/course.js';

const MANIFESTS = path.resolve(import.meta.dirname, '../../../shared/reference/manifests');
const LAB = 'it-svc';
const NODES = ['master', 'worker'];


describe('Services through kube-proxy iptables rules', () => {
  let sb: Sandbox;
  let pods: Array<{ name: string; ip: string }> = [];
  let clusterIP = '';

  const readyPods = async () => (await readyPodRows(sb, 'app=ngx-dep', 2)).map((c) => ({ name: c[0] ?? '', ip: c[5] ?? '' }));
  const natRules = async (node: string) => (await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'iptables-save', '-t', 'nat'])).stdout;
  const fromConsole = (url: string) => sb.nslab(['exec', '--lab', LAB, 'host/console', '--', 'curl', '-s', '-m', '2', url]);

  beforeAll(async () => {
    sb = sandbox();
    await upLab(sb, LAB, courseLabYaml(LAB));
    const apply = await sb.kubectl(['apply', '-f', path.join(MANIFESTS, 'ngx-conf.yml'), '-f', path.join(MANIFESTS, 'ngx-dep.yml'), '-f', path.join(MANIFESTS, 'ngx-svc.yml')]);
    expect(apply.exitCode, apply.stderr).toBe(0);
    pods = await readyPods();
    clusterIP = (await sb.kubectl(['get', 'svc', 'ngx-svc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  });

  afterAll(async () => {
    await sb.nslab(['down', LAB]);
    sb.cleanup();
  });

  it('allocates a ClusterIP and lists both pods as endpoints, in kubectl get, describe and the slices', async () => {
    const svc = rows((await sb.kubectl(['get', 'svc', 'ngx-svc', '--no-headers'])).stdout)[0];
    expect(svc?.slice(0, 5)).toEqual(['ngx-svc', 'ClusterIP', clusterIP, '<none>', '80/TCP']);
    expect(clusterIP).toMatch(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
    const want = pods.map((p) => `${p.ip}:80`).sort();
    const ep = rows((await sb.kubectl(['get', 'endpoints', 'ngx-svc', '--no-headers'])).stdout)[0];
    expect(ep?.[1]?.split(',').sort()).toEqual(want);
    const describe = (await sb.kubectl(['describe', 'svc', 'ngx-svc'])).stdout;
    expect(describe).toMatch(new RegExp(`Endpoints:\\s+${want.join(',').replaceAll('.', '\\.')}`));
    const slice = rows((await sb.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=ngx-svc', '--no-headers'])).stdout)[0];
    expect(slice?.slice(1, 3)).toEqual(['IPv4', '80']);
    expect(slice?.[3]?.split(',').sort()).toEqual(pods.map((p) => p.ip).sort());
  });

  it("writes kube-proxy's chains on every node", async () => {
    for (const node of NODES) {
      const nat = await natRules(node);
      expect(nat).toMatch(new RegExp(`-A KUBE-SERVICES -d ${clusterIP.replaceAll('.', '\\.')}/32 -p tcp -m comment --comment "default/ngx-svc cluster IP" -m tcp --dport 80 -j KUBE-SVC-DQYKF4NVSQPF2JO7`));
      expect(nat).toContain('-m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-');
      expect(nat).toContain('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
      expect(nat).toContain('-j KUBE-NODEPORTS');
      const filter = (await sb.nslab(['exec', '--lab', LAB, `node/${node}`, '--', 'iptables-save', '-t', 'filter'])).stdout;
      expect(filter).toContain('-A KUBE-FORWARD');
    }
  });

  it('spreads curl to the ClusterIP over both pods, the caller included (hairpin)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const r = await sb.kubectl(['exec', pods[0]!.name, '--', 'curl', '-s', '-m', '2', `http://${clusterIP}/`]);
      const m = /^srv : (\S+):80/.exec(r.stdout);
      if (m?.[1]) seen.add(m[1]);
    }
    expect([...seen].sort()).toEqual(pods.map((p) => p.ip).sort());
  });

  it('gets no answer to ping at the ClusterIP', async () => {
    const r = await sb.kubectl(['exec', pods[0]!.name, '--', 'ping', '-c1', '-W1', clusterIP]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('1 packets transmitted, 0 received');
  });

  it('refuses connections at once to a Service without endpoints', async () => {
    const c = await sb.kubectl(['create', 'service', 'clusterip', 'nothing', '--tcp=80:80']);
    expect(c.exitCode, c.stderr).toBe(0);
    const ip = (await sb.kubectl(['get', 'svc', 'nothing', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const r = await until('the REJECT rule', async () => {
      const x = await sb.kubectl(['exec', pods[0]!.name, '--', 'curl', '-sS', '-m', '2', `http://${ip}/`]);
      return x.exitCode === 7 ? x : undefined;
    });
    expect(r.stderr).toContain("Couldn't connect to server");
  });

  it('opens a NodePort on both nodes for the console outside the cluster', async () => {
    const e = await sb.kubectl(['expose', 'deploy', 'ngx-dep', '--port=80', '--target-port=80', '--type=NodePort', '--name=ngx-np']);
    expect(e.exitCode, e.stderr).toBe(0);
    const ports = rows((await sb.kubectl(['get', 'svc', 'ngx-np', '--no-headers'])).stdout)[0]?.[4] ?? '';
    const port = Number(/^80:(\d+)\/TCP$/.exec(ports)?.[1]);
    expect(port).toBeGreaterThanOrEqual(30000);
    expect(port).toBeLessThanOrEqual(32767);
    for (const nodeIP of ['192.168.10.210', '192.168.10.220']) {
      const r = await until(`NodePort on ${nodeIP}`, async () => {
        const x = await fromConsole(`http://${nodeIP}:${port}/`);
        return x.stdout.startsWith('srv : ') ? x : undefined;
      });
      expect(r.stdout).toMatch(/^srv : 10\.10\.\d+\.\d+:80\nhost: ngx-dep-/);
    }
    const patch = await sb.kubectl(['patch', 'svc', 'ngx-svc', '-p', '{"spec":{"type":"NodePort"}}']);
    expect(patch.exitCode, patch.stderr).toBe(0);
    const taken = `apiVersion: v1
kind: Service
metadata: {name: clash}
spec:
  type: NodePort
  selector: {app: ngx-dep}
  ports: [{port: 80, nodePort: ${port}}]
`;
    writeFileSync(path.join(sb.dir, 'clash.yaml'), taken);
    const clash = await sb.kubectl(['apply', '-f', path.join(sb.dir, 'clash.yaml')]);
    expect(clash.exitCode).toBe(1);
    expect(clash.stderr).toContain(`spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`);
  });

  it('follows a deleted pod on every node while curl keeps answering', async () => {
    const np = (await sb.kubectl(['get', 'svc', 'ngx-np', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
    const victim = pods[1]!;
    const del = await sb.kubectl(['delete', 'pod', victim.name, '--wait=false']);
    expect(del.exitCode, del.stderr).toBe(0);
    const codes: string[] = [];
    await until(
      `${victim.ip} gone from every node's rules`,
      async () => {
        codes.push((await sb.nslab(['exec', '--lab', LAB, 'host/console', '--', 'curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://192.168.10.210:${np}/`])).stdout);
        const rules = await Promise.all(NODES.map(natRules));
        return rules.every((r) => !r.includes(`${victim.ip}:80`)) ? true : undefined;
      },
      5000,
      50,
    );
    const ep = rows((await sb.kubectl(['get', 'endpoints', 'ngx-svc', '--no-headers'])).stdout)[0]?.[1] ?? '';
    expect(ep).not.toContain(victim.ip);
    pods = await readyPods();
    for (let i = 0; i < 10; i++) codes.push((await fromConsole(`http://192.168.10.220:${np}/`)).stdout.slice(0, 6));
    expect(codes.filter((c) => c !== '200' && c !== 'srv : ')).toEqual([]);
  });

  it('prints what a real kubectl prints for expose --dry-run=client -o yaml', async () => {
    const r = await sb.kubectl(['expose', 'deploy', 'ngx-dep', '--port=80', '--target-port=80', '--dry-run=client', '-o', 'yaml']);
    expect(r.stdout).toBe(`apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  name: ngx-dep
spec:
  ports:
  - port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: ngx-dep
status:
  loadBalancer: {}`);
  });
});
