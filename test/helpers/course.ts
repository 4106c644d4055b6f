// The course's cluster as a lab file for integration tests (master
// 192.168.10.210, worker .220, console .208 on one LAN), and a bounded poll.

/** The lab file text; `hosts` and `tail` add YAML under spec.hosts and spec. */
export function courseLabYaml(name: string, opts: { hosts?: string; tail?: string } = {}): string {
  return `apiVersion: nslab/v1alpha1
kind: Lab
metadata: {name: ${name}}
spec:
  networks:
  - {name: lan, cidr: 192.168.10.0/24, gateway: 192.168.10.1}
  nodes:
  - {name: master, roles: [control-plane], nics: [{network: lan, address: 192.168.10.210}]}
  - {name: worker, nics: [{network: lan, address: 192.168.10.220}]}
  hosts:
${opts.hosts ?? '  - {name: console, nics: [{network: lan, address: 192.168.10.208}]}\n'}${opts.tail ?? ''}`;
}

/** Polls fn until it returns a value, at most timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
