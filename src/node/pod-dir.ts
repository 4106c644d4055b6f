// A pod's folder on its node: the files the pod sees (resolv.conf, hosts,
// hostname, ConfigMap volumes, nginx's configuration, the API socket for
// DNS pods) and the mounts the sandbox makes of them. The contents are the
// pure renderers of pod-files.ts and volumes.ts.
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../api/store.js';
import { projectRoot } from '../sys/install-paths.js';
import type { RunPlan } from './images.js';
import { POD_API_SOCKET } from './images.js';
import { nginxConf, NGINX_DEFAULT_SITE, renderHosts, renderResolvConf, type DnsConfig } from './pod-files.js';
import type { Mount } from './sandbox.js';
import { volumeFiles, writeAtomicVolume, type KeyToPath } from './volumes.js';

const WEB_USER = 'www-data';

export interface ConfigMapVolumeSource {
  name: string;
  items?: KeyToPath[];
  defaultMode?: number;
}

/** The parts of a pod's spec its folder is made from. */
export interface PodDirSpec {
  containers: Array<{ volumeMounts?: Array<{ name: string; mountPath: string }> }>;
  volumes?: Array<{ name: string; configMap?: ConfigMapVolumeSource }>;
  dnsPolicy?: string;
  dnsConfig?: DnsConfig;
  hostAliases?: Array<{ ip: string; hostnames: string[] }>;
}

export interface PodDirContext {
  store: ObjectStore;
  clusterDomain: string;
  clusterDNS: string;
  nodeResolvConf: string;
  apiSocket: string;
}

export interface PodDirTarget {
  dir: string;
  namespace: string;
  name: string;
  ip?: string;
  plans: readonly RunPlan[];
}

/** resolv.conf, hosts, hostname, volumes and nginx files; returns the mounts the sandbox needs. */
export async function writePodFiles(ctx: PodDirContext, run: PodDirTarget, spec: PodDirSpec): Promise<Mount[]> {
  const etc = path.join(run.dir, 'etc');
  await mkdir(etc, { recursive: true });
  await writeFile(
    path.join(etc, 'resolv.conf'),
    renderResolvConf({
      dnsPolicy: spec.dnsPolicy ?? 'ClusterFirst',
      namespace: run.namespace,
      clusterDomain: ctx.clusterDomain,
      clusterDNS: ctx.clusterDNS,
      nodeResolvConf: ctx.nodeResolvConf,
      ...(spec.dnsConfig ? { dnsConfig: spec.dnsConfig } : {}),
    }),
  );
  await writeFile(path.join(etc, 'hosts'), renderHosts(run.ip ?? '', run.name, spec.hostAliases ?? []));
  await writeFile(path.join(etc, 'hostname'), `${run.name}\n`);
  const mounts: Mount[] = [
    { kind: 'tmpfs', target: '/run', options: 'mode=755' },
    { kind: 'tmpfs', target: '/tmp', options: 'mode=1777' },
    { kind: 'bind', source: path.join(etc, 'hosts'), target: '/etc/hosts' },
    { kind: 'bind', source: path.join(etc, 'resolv.conf'), target: '/etc/resolv.conf' },
    { kind: 'bind', source: path.join(etc, 'hostname'), target: '/etc/hostname' },
  ];
  if (run.plans.some((p) => p.kind === 'coredns')) {
    // A folder holding only a hard link of the API's socket (same tmpfs), so the pod sees nothing else of the lab's state.
    const secrets = path.join(run.dir, 'api');
    await mkdir(secrets, { recursive: true, mode: 0o700 });
    await rm(path.join(secrets, path.basename(POD_API_SOCKET)), { force: true });
    await link(ctx.apiSocket, path.join(secrets, path.basename(POD_API_SOCKET)));
    mounts.push({ kind: 'bind', source: secrets, target: path.dirname(POD_API_SOCKET), staged: true });
    // The DNS server is nslab's own code: if the pod's /tmp or /run would hide it (a checkout under /tmp), bind it back.
    const root = projectRoot();
    if (['/tmp/', '/run/'].some((p) => `${root}/`.startsWith(p))) mounts.push({ kind: 'bind', source: root, target: root, staged: true });
  }
  const volumeMounts = spec.containers.flatMap((c) => c.volumeMounts ?? []);
  if (run.plans.some((p) => p.kind === 'nginx')) {
    const nginx = path.join(run.dir, 'nginx');
    await mkdir(path.join(nginx, 'conf.d'), { recursive: true });
    await writeFile(path.join(nginx, 'nginx.conf'), nginxConf(WEB_USER));
    await writeFile(path.join(nginx, 'conf.d', 'default.conf'), NGINX_DEFAULT_SITE);
    mounts.push(
      { kind: 'tmpfs', target: '/var/lib/nginx', options: 'mode=755' },
      { kind: 'tmpfs', target: '/var/log/nginx', options: 'mode=755' },
      { kind: 'bind', source: path.join(nginx, 'nginx.conf'), target: '/etc/nginx/nginx.conf' },
    );
    if (!volumeMounts.some((m) => m.mountPath.replace(/\/$/, '') === '/etc/nginx/conf.d')) {
      mounts.push({ kind: 'bind', source: path.join(nginx, 'conf.d'), target: '/etc/nginx/conf.d' });
    }
  }
  for (const vm of volumeMounts) {
    const vol = spec.volumes?.find((v) => v.name === vm.name);
    if (!vol?.configMap) continue;
    const dir = volumeDir(run.dir, vol.name);
    await writeConfigMapVolume(ctx.store, run.namespace, vol.configMap, dir);
    mounts.push({ kind: 'bind', source: dir, target: vm.mountPath });
  }
  return mounts;
}

export function volumeDir(podDir: string, volume: string): string {
  return path.join(podDir, 'volumes', volume);
}

export async function writeConfigMapVolume(store: ObjectStore, namespace: string, ref: ConfigMapVolumeSource, dir: string): Promise<void> {
  const cm = store.find('configmaps', namespace, ref.name);
  if (!cm) throw new Error(`configmap "${ref.name}" not found`);
  const data = (cm['data'] ?? {}) as Record<string, string>;
  await writeAtomicVolume(dir, volumeFiles(data, ref.items), ref.defaultMode ?? 0o644);
}
