// A two-node lab with the course's layout for benchmarks: its file in a temp
// folder with a kubeconfig of its own, the CLI and kubectl to drive it, and
// the course's manifests. Always call down() in a finally.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
export const manifests = path.resolve(root, '..', 'shared', 'reference', 'manifests');

export interface BenchLab {
  up(): void;
  down(): void;
  kubectl(...args: string[]): string;
}

export function benchLab(lab: string): BenchLab {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nslab-bench-'));
  const env = { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') };
  const labFile = path.join(dir, 'lab.yaml');
  writeFileSync(
    labFile,
    `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${lab}}
spec:
  networks: [{name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}]
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.10.210}]}
  - {name: worker, nics: [{network: lan, address: 192.168.10.220}]}
`,
  );
  return {
    up: () => void execFileSync(process.execPath, [cli, 'up', labFile], { env, stdio: 'ignore' }),
    down: () => {
      execFileSync(process.execPath, [cli, 'down', lab], { env, stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
    kubectl: (...args) => execFileSync('kubectl', args, { env, stdio: 'pipe' }).toString(),
  };
}
