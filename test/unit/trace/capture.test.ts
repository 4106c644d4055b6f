// `nslab capture`: tcpdump's argument vector, target names, the bounds, and
// that it starts from inside the lab's cgroup (so `nslab down` kills it).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabApiClient } from '../../../src/client/api-client.js';
import { loadLabFile } from '../../../src/labfile/parse-lab.js';
import type { LabRecord } from '../../../src/plan/lab-record.js';
import { planTopology } from '../../../src/plan/topology.js';
import { RecordingLauncher } from '../../../src/sys/launcher-fake.js';
import { tcpdumpArgv } from '../../../src/sys/tcpdump.js';
import { capture } from '../../../src/trace/capture.js';
import { splitTargetIface } from '../../../src/trace/targets.js';

const LABS = path.resolve(import.meta.dirname, '../../../labs');
// Node, host and segment targets come from the lab record; the API is only asked about pods.
const noApi = {} as unknown as LabApiClient;

async function record(): Promise<LabRecord> {
  const spec = await loadLabFile(path.join(LABS, 'course-service.yaml'));
  return { spec, plan: planTopology(spec), createdAt: '2026-12-01T00:00:00Z' };
}

describe('nslab capture', () => {
  let cgroupRoot: string;
  beforeEach(() => {
    cgroupRoot = mkdtempSync(path.join(os.tmpdir(), 'nslab-cg-'));
    process.env['NSLAB_CGROUP_ROOT'] = cgroupRoot;
  });
  afterEach(() => {
    delete process.env['NSLAB_CGROUP_ROOT'];
    rmSync(cgroupRoot, { recursive: true, force: true });
  });

  it('runs tcpdump in the node namespace, bounded by count, with the filter; started inside the lab cgroup', async () => {
    const procsFile = path.join(cgroupRoot, 'nslab', 'course-service', 'cgroup.procs');
    let inCgroupAtSpawn = '';
    const launcher = new RecordingLauncher((p) => {
      inCgroupAtSpawn = readFileSync(procsFile, 'utf8');
      setTimeout(() => p.end(0), 5);
    });
    const r = await capture({ lab: 'course-service', record: await record(), api: noApi, target: 'node/worker', count: 1, filter: ['tcp', 'port', '80'] }, launcher);
    expect(launcher.processes[0]?.argv).toEqual(['nsenter', '--net=/run/netns/nslab-course-service.node-worker', '--', 'tcpdump', '-Z', 'root', '-i', 'any', '-l', '-nn', '-c', '1', 'tcp', 'port', '80']);
    // The command joined the lab's cgroup before it started tcpdump, so tcpdump is the lab's.
    expect(inCgroupAtSpawn.trim()).toBe(String(process.pid));
    expect(r).toMatchObject({ iface: 'any', timedOut: false, exit: { code: 0, signal: null } });
  });

  it('a segment captures on its bridge, an interface can be named, and -w writes a pcap', async () => {
    const launcher = new RecordingLauncher((p) => setTimeout(() => p.end(0), 5));
    await capture({ lab: 'course-service', record: await record(), api: noApi, target: 'segment/lan', write: '-' }, launcher);
    await capture({ lab: 'course-service', record: await record(), api: noApi, target: 'host/console:eth0' }, launcher);
    expect(launcher.processes.map((p) => p.argv.slice(3).join(' '))).toEqual(['tcpdump -Z root -i br0 -U -w -', 'tcpdump -Z root -i eth0 -l -nn']);
    expect(launcher.processes[0]?.argv[1]).toBe('--net=/run/netns/nslab-course-service.net-lan');
  });

  it('stops tcpdump with SIGINT when the time bound is up', async () => {
    const launcher = new RecordingLauncher();
    const r = await capture({ lab: 'course-service', record: await record(), api: noApi, target: 'node/master', seconds: 0.05 }, launcher);
    expect(launcher.processes[0]?.signals).toEqual(['SIGINT']);
    expect(r.timedOut).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('refuses unknown targets and bad bounds before starting anything', async () => {
    const launcher = new RecordingLauncher();
    await expect(capture({ lab: 'course-service', record: await record(), api: noApi, target: 'node/nope' }, launcher)).rejects.toThrow(/has no node "nope" \(it has: node\/master, node\/worker\)/);
    await expect(capture({ lab: 'course-service', record: await record(), api: noApi, target: 'segment/wan' }, launcher)).rejects.toThrow(/has no segment "wan"/);
    await expect(capture({ lab: 'course-service', record: await record(), api: noApi, target: 'node/master', count: 0 }, launcher)).rejects.toThrow(/--count/);
    expect(launcher.processes).toEqual([]);
    expect(() => tcpdumpArgv('nslab-x.node-a', { iface: 'eth0; rm' })).toThrow(/invalid interface/);
    expect(splitTargetIface('pod/app=web:eth0')).toEqual({ target: 'pod/app=web', iface: 'eth0' });
    expect(() => splitTargetIface('node/a:')).toThrow(/no interface/);
  });
});
