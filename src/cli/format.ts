// Plain-text rendering for the CLI.
import type { LabStatus } from '../lab/status.js';
import type { StepReport } from '../lab/progress.js';
import type { UpResult } from '../lab/up.js';

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatStep(s: StepReport, width = 64): string {
  return ` ✓ ${s.label.padEnd(width)} ${formatMs(s.ms).padStart(8)}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd()).join('\n');
}

export function upSummary(r: UpResult, totalMs: number): string {
  const lines = [
    `Lab "${r.spec.name}" is ${r.alreadyUp ? 'already up' : `up in ${formatMs(totalMs)}`}: ${r.plan.nodes.length} nodes, ${r.plan.hosts.length} hosts, ${r.spec.cluster.proxyMode} proxy mode`,
  ];
  const rows = [['', 'NAME', 'ADDRESS', 'ROLES', 'POD CIDR']];
  for (const n of r.plan.nodes) rows.push(['node', n.name, n.nodeIP, n.roles.join(',') || '<none>', n.podCIDR]);
  for (const h of r.plan.hosts) rows.push(['host', h.name, h.nics.map((n) => n.address).join(','), '', '']);
  lines.push(table(rows).replace(/^/gm, '  '));
  lines.push(`  API ${r.api.url}${r.kubeconfigPath ? `, kubectl context nslab-${r.spec.name} (${r.kubeconfigPath})` : ''}`);
  lines.push('Try: kubectl get nodes -o wide');
  const first = r.plan.nodes[0];
  const host = r.plan.hosts[0];
  if (host && first) lines.push(`     sudo nslab exec host/${host.name} -- ping -c1 ${first.nodeIP}`);
  return lines.join('\n');
}

export function statusText(s: LabStatus): string {
  const lines = [`Lab ${s.name}: ${s.state}`];
  if (s.file) lines.push(`  file:       ${s.file}`);
  if (s.createdAt) lines.push(`  up since:   ${s.createdAt}`);
  if (s.api) lines.push(`  API:        ${s.api.url} (pid ${s.api.pid}, ${s.api.alive ? 'running' : 'not running'})`);
  lines.push(`  namespaces: ${s.namespaces.present} of ${s.namespaces.expected}${s.namespaces.missing.length ? ` (missing: ${s.namespaces.missing.join(', ')})` : ''}, plus ${s.pods} for pods`);
  for (const n of s.nodes) lines.push(`  node ${n.name}: ${n.nodeIP}, pods ${n.podCIDR}${n.roles.length ? `, ${n.roles.join(',')}` : ''} (netns ${n.netns})`);
  for (const h of s.hosts) lines.push(`  host ${h.name}: ${h.addresses.join(', ')} (netns ${h.netns})`);
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  for (const p of s.problems) lines.push(`  problem: ${p}`);
  if (s.state === 'Degraded') lines.push(`  Something is missing: "sudo nslab down ${s.name}" then "sudo nslab up" rebuilds it.`);
  return lines.join('\n');
}

export function listText(labs: LabStatus[]): string {
  if (labs.length === 0) return 'No labs are up. Start one with: sudo nslab up';
  const rows = [['NAME', 'STATUS', 'NODES', 'HOSTS', 'API', 'FILE']];
  for (const s of labs) rows.push([s.name, s.state, String(s.nodes.length), String(s.hosts.length), s.api?.url ?? '-', s.file ?? '-']);
  return table(rows);
}
