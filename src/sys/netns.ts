// Running a command inside one of the lab's network namespaces, for nslab's
// own commands (users' commands go through `ip netns exec`, see interactive.ts).

const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

export function assertNetnsName(netns: string): void {
  if (!NETNS_NAME.test(netns) || netns.includes('..')) throw new Error(`invalid network namespace name "${netns}"`);
}

/** argv that runs `argv` in the named network namespace (nsenter: no mount-namespace work, unlike ip netns exec). */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  assertNetnsName(netns);
  return ['nsenter', `--net=/run/netns/${netns}`, '--', ...argv];
}
