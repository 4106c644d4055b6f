// The Kubernetes release the lab's control plane speaks and reports.
export const KUBE_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
} as const;

export const NSLAB_VERSION = '0.1.0';
export const CONTAINER_RUNTIME_VERSION = `nslab://${NSLAB_VERSION}`;
