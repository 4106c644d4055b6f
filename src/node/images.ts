// What runs for a container: images map to the machine's binaries.
import { fileURLToPath } from 'node:url';

/** Where a coredns container finds the lab's API inside its pod (a bind of the API's unix socket). */
export const POD_API_SOCKET = '/run/secrets/nslab.io/api.sock';
const DNS_MAIN = fileURLToPath(new URL('../dns/main.js', import.meta.url));
export interface ContainerLike {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
}

export type RunPlan =
  | { kind: 'nginx'; argv: string[]; stopSignal: NodeJS.Signals }
  | { kind: 'command'; argv: string[]; stopSignal: NodeJS.Signals }
  | { kind: 'coredns'; argv: string[]; stopSignal: NodeJS.Signals }
  | { kind: 'unrunnable'; reason: string; message: string };

/** The image's repository name without registry, tag or digest: "nginx" for docker.io/library/nginx:alpine. */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  const path = colon >= 0 ? noDigest.slice(0, colon) : noDigest;
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Images whose default command is a shell: busybox and the distribution bases. */
const SHELL_IMAGES = new Set(['busybox', 'alpine', 'debian', 'ubuntu', 'fedora', 'centos', 'rockylinux', 'almalinux']);

export function runPlan(c: ContainerLike, clusterDomain = 'cluster.local'): RunPlan {
  const image = c.image ?? '';
  const name = imageName(image);
  if (name === 'nginx' && !c.command) {
    // The image's ENTRYPOINT/CMD: nginx -g 'daemon off;', stopped with SIGQUIT (its STOPSIGNAL).
    return { kind: 'nginx', argv: ['nginx', '-g', 'daemon off;', ...(c.args ?? [])], stopSignal: 'SIGQUIT' };
  }
  if (name === 'coredns' && !c.command) {
    // nslab's own cluster DNS stands in for CoreDNS with kubeadm's Corefile
    // (the image's `-conf` argument names a file the lab does not mount).
    return {
      kind: 'coredns',
      argv: [process.execPath, DNS_MAIN, '--api-socket', POD_API_SOCKET, '--listen', '0.0.0.0:53', '--domain', clusterDomain],
      stopSignal: 'SIGTERM',
    };
  }
  if (c.command?.length) return { kind: 'command', argv: [...c.command, ...(c.args ?? [])], stopSignal: 'SIGTERM' };
  if (c.args?.length) return { kind: 'command', argv: [...c.args], stopSignal: 'SIGTERM' };
  if (SHELL_IMAGES.has(name)) return { kind: 'command', argv: ['sh'], stopSignal: 'SIGTERM' };
  return {
    kind: 'unrunnable',
    reason: 'ErrImagePull',
    message: `nslab cannot run image "${image}": it runs nginx images and the container's command with this machine's binaries; give the container a command`,
  };
}
