// What kube-proxy sets up in a node besides its own chains: the jump rules in
// the built-in chains (ensured one by one with iptables -C / -I on full
// syncs), its canary chains, and the sysctls it writes.
import { saveFormOfRule } from './save-form.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  type IptablesProxyConfig,
} from './iptables.js';

export interface JumpRule {
  table: 'filter' | 'nat';
  /** The built-in chain the jump is in. */
  chain: string;
  target: string;
  comment?: string;
  extraArgs: string[];
  /** kube-proxy's own list, or kubelet's rules that kube-proxy also ensures. */
  owner: 'kube-proxy' | 'kubelet';
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

/** iptablesJumpChains, in kube-proxy's order. */
export const KUBE_PROXY_JUMPS: readonly JumpRule[] = [
  { table: 'filter', chain: 'INPUT', target: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'filter', chain: 'FORWARD', target: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'filter', chain: 'INPUT', target: KUBE_NODEPORTS, comment: 'kubernetes health check service ports', extraArgs: [], owner: 'kube-proxy' },
  { table: 'filter', chain: 'FORWARD', target: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'filter', chain: 'FORWARD', target: KUBE_FORWARD, comment: 'kubernetes forwarding rules', extraArgs: [], owner: 'kube-proxy' },
  { table: 'filter', chain: 'INPUT', target: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'filter', chain: 'FORWARD', target: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extraArgs: NEW, owner: 'kube-proxy' },
  { table: 'nat', chain: 'OUTPUT', target: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: [], owner: 'kube-proxy' },
  { table: 'nat', chain: 'PREROUTING', target: KUBE_SERVICES, comment: 'kubernetes service portals', extraArgs: [], owner: 'kube-proxy' },
  { table: 'nat', chain: 'POSTROUTING', target: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', extraArgs: [], owner: 'kube-proxy' },
];

/**
 * iptablesKubeletJumpChains: kubelet's INPUT/OUTPUT jumps to KUBE-FIREWALL,
 * which kube-proxy ensures too. On a real node kubelet has made them before
 * kube-proxy starts, so they end up after kube-proxy's prepended jumps.
 */
export const KUBELET_JUMPS: readonly JumpRule[] = [
  { table: 'filter', chain: 'INPUT', target: KUBE_FIREWALL, extraArgs: [], owner: 'kubelet' },
  { table: 'filter', chain: 'OUTPUT', target: KUBE_FIREWALL, extraArgs: [], owner: 'kubelet' },
];

/** The rule's arguments as kube-proxy passes them (comment quoted for a restore line). */
export function jumpRuleArgs(j: JumpRule): string {
  const args = [...j.extraArgs];
  if (j.comment !== undefined) args.push('-m', 'comment', '--comment', `"${j.comment}"`);
  args.push('-j', j.target);
  return args.join(' ');
}

/** The line iptables-save prints for the jump. */
export function jumpRuleSaveForm(j: JumpRule): string {
  return saveFormOfRule(`-A ${j.chain} ${jumpRuleArgs(j)}`);
}

/**
 * Restore lines that ensure the jump rules as kube-proxy's full sync does:
 * each missing rule inserted at the top of its chain, in kube-proxy's order
 * (kubelet's first, as on a node where kubelet started earlier). `saved` is
 * the node's `iptables-save` (all tables); undefined means empty chains.
 * Returns lines per table.
 */
export function missingJumpLines(saved: string | undefined): { filter: string[]; nat: string[] } {
  const present = savedRulesByTable(saved ?? '');
  const out: { filter: string[]; nat: string[] } = { filter: [], nat: [] };
  for (const j of [...KUBELET_JUMPS, ...KUBE_PROXY_JUMPS]) {
    if (present.get(j.table)?.has(jumpRuleSaveForm(j))) continue;
    out[j.table].push(`-I ${j.chain} 1 ${jumpRuleArgs(j)}`);
  }
  return out;
}

/** Rule lines of an iptables-save dump, per table. */
export function savedRulesByTable(saved: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      if (!out.has(table)) out.set(table, new Set());
    } else if (line.startsWith('-A ')) {
      out.get(table)?.add(line.trim());
    }
  }
  return out;
}

/** User chains of a table in an iptables-save dump. */
export function savedChains(saved: string, table: string): Set<string> {
  const out = new Set<string>();
  let cur = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) cur = line.slice(1).trim();
    else if (cur === table && line.startsWith(':')) out.add(line.slice(1).split(' ')[0] ?? '');
  }
  return out;
}

/**
 * The restore text kube-proxy's full sync adds around its own: the
 * KUBE-PROXY-CANARY chains in mangle, nat and filter (ipt.Monitor creates
 * them), a KUBE-FIREWALL chain if neither the render nor the node has one,
 * and the missing jump rules. Applied after the render in the same restore.
 */
export function fullSyncExtras(saved: string | undefined, renderDeclares: (table: string, chain: string) => boolean): string {
  const jumps = missingJumpLines(saved);
  const existingFilter = savedChains(saved ?? '', 'filter');
  const filterDecl = [`:${KUBE_PROXY_CANARY} - [0:0]`];
  if (!renderDeclares('filter', KUBE_FIREWALL) && !existingFilter.has(KUBE_FIREWALL)) filterDecl.push(`:${KUBE_FIREWALL} - [0:0]`);
  return [
    '*mangle',
    `:${KUBE_PROXY_CANARY} - [0:0]`,
    'COMMIT',
    '*filter',
    ...filterDecl,
    ...jumps.filter,
    'COMMIT',
    '*nat',
    `:${KUBE_PROXY_CANARY} - [0:0]`,
    ...jumps.nat,
    'COMMIT',
    '',
  ].join('\n');
}

export interface Sysctl {
  key: string;
  value: string;
}

/**
 * The sysctls kube-proxy's iptables mode writes in its (network) namespace:
 * route_localnet for localhost NodePorts (with the KUBE-FIREWALL guard).
 * It only reads nf_conntrack_tcp_be_liberal; conntrack limits and timeouts
 * (nf_conntrack_max, tcp_timeout_established/close_wait) are left alone in
 * the lab, as shared/notes/kube-proxy.md §5 asks; ip_forward and
 * bridge-nf-call-iptables belong to the node's setup, not to kube-proxy.
 */
export function kubeProxySysctls(cfg: Pick<IptablesProxyConfig, 'localhostNodePorts'>): Sysctl[] {
  return (cfg.localhostNodePorts ?? true) ? [{ key: 'net.ipv4.conf.all.route_localnet', value: '1' }] : [];
}
