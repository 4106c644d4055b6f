// The lab's picture as a Mermaid flowchart (GitHub renders it in Markdown). Pure.
import { portText, type GraphModel } from './model.js';

/** Mermaid label text: quotes become #quot; and the label is quoted. */
function label(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'))).join('<br/>')}"`;
}

export function renderMermaid(g: GraphModel): string {
  const out: string[] = ['flowchart LR'];
  const add = (indent: number, line: string) => out.push(`${'  '.repeat(indent)}${line}`);
  add(1, `%% lab ${g.lab}: proxy ${g.proxyMode}, pod network ${g.podNetwork} ${g.podCIDR}, services ${g.serviceCIDR}`);
  for (const s of g.segments) {
    const name = s.machine ? `${s.network} (${s.machine}'s own)` : s.network;
    add(1, `${s.id}{{${label([`segment ${name}`, ...(s.gateway ? [`router ${s.gateway}`] : [])])}}}`);
  }
  for (const m of g.machines) {
    const head = [`${m.kind} ${m.name}`, ...m.nics.map((n) => `${n.ifname} ${n.address}`)];
    if (m.kind === 'host') {
      add(1, `${m.id}[${label(head)}]`);
      continue;
    }
    add(1, `subgraph ${m.id}_box[${label([`node ${m.name}`])}]`);
    add(2, `${m.id}[${label([...head, ...(m.podCIDR ? [`pods ${m.podCIDR} (cni0)`] : [])])}]`);
    for (const p of m.pods) add(2, `${p.id}([${label([`pod ${p.namespace}/${p.name}`, p.ip])}])`);
    add(1, 'end');
  }
  for (const s of g.services) {
    add(1, `${s.id}[/${label([`svc ${s.namespace}/${s.name}`, `${s.type} ${s.clusterIP ?? 'headless'}`, ...s.ports.map(portText)])}/]`);
  }
  for (const m of g.machines) for (const n of m.nics) add(1, `${m.id} ---|${label([n.ifname])}| ${n.segment}`);
  for (const m of g.machines) for (const p of m.pods) add(1, `${m.id} --- ${p.id}`);
  for (const r of g.podRoutes) {
    if (r.to) add(1, `${r.from} -.->|${label([`${g.podNetwork} ${r.dst} via ${r.via}`])}| ${r.to}`);
  }
  for (const s of g.services) {
    for (const e of s.endpoints) {
      if (e.pod) add(1, `${s.id} -->|${label([e.ports.join(',')])}| ${e.pod}`);
      else {
        const id = `${s.id}__ep__${e.ip.replace(/\W/g, '_')}`;
        add(1, `${id}([${label([`endpoint ${e.ip}`])}])`);
        add(1, `${s.id} -->|${label([e.ports.join(',')])}| ${id}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
