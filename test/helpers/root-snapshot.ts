// What the root network namespace looks like, to prove a lab never touches it.
import { execa } from 'execa';

export async function rootNetnsSnapshot(): Promise<Record<string, string>> {
  const cmds: Record<string, string[]> = {
    addr: ['ip', '-d', 'addr', 'show'],
    route: ['ip', 'route', 'show', 'table', 'all'],
    rules: ['ip', 'rule', 'show'],
    iptables: ['iptables-save'],
    nft: ['nft', 'list', 'ruleset'],
    sysctl: ['sysctl', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.route_localnet', 'net.bridge.bridge-nf-call-iptables'],
  };
  const out: Record<string, string> = {};
  for (const [name, argv] of Object.entries(cmds)) {
    const r = await execa(argv[0]!, argv.slice(1), { reject: false });
    // iptables-save stamps the time it ran; packet counters move with unrelated traffic.
    out[name] = String(r.stdout)
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => l.replace(/\[\d+:\d+\]/g, '[*]'))
      .join('\n');
  }
  return out;
}

export async function labNetns(prefix = 'nslab-'): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  return String(r.stdout)
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
