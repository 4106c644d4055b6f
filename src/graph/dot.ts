// The lab's picture as Graphviz DOT (`dot -Tsvg` draws it). Pure.
import { portText, type GraphModel } from './model.js';

/** A DOT string literal; newlines become centred line breaks. */
function q(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\n')}"`;
}

export function renderDot(g: GraphModel): string {
  const out: string[] = [`graph ${q([`nslab ${g.lab}`])} {`];
  const add = (indent: number, line: string) => out.push(`${'  '.repeat(indent)}${line}`);
  add(1, 'rankdir=LR;');
  add(1, `label=${q([`lab ${g.lab}: proxy ${g.proxyMode}, pod network ${g.podNetwork} ${g.podCIDR}, services ${g.serviceCIDR}`])};`);
  add(1, 'node [fontname="Helvetica", fontsize=10];');
  add(1, 'edge [fontname="Helvetica", fontsize=9];');
  for (const s of g.segments) {
    const name = s.machine ? `${s.network} (${s.machine}'s own)` : s.network;
    add(1, `${s.id} [shape=hexagon, label=${q([`segment ${name}`, ...(s.gateway ? [`router ${s.gateway}`] : [])])}];`);
  }
  for (const m of g.machines) {
    const head = [`${m.kind} ${m.name}`, ...m.nics.map((n) => `${n.ifname} ${n.address}`)];
    if (m.kind === 'host') {
      add(1, `${m.id} [shape=box, label=${q(head)}];`);
      continue;
    }
    add(1, `subgraph cluster_${m.id} {`);
    add(2, `label=${q([`node ${m.name}`])};`);
    add(2, `${m.id} [shape=box, style=bold, label=${q([...head, ...(m.podCIDR ? [`pods ${m.podCIDR} (cni0)`] : [])])}];`);
    for (const p of m.pods) add(2, `${p.id} [shape=ellipse, label=${q([`pod ${p.namespace}/${p.name}`, p.ip])}];`);
    add(1, '}');
  }
  for (const s of g.services) {
    add(1, `${s.id} [shape=parallelogram, label=${q([`svc ${s.namespace}/${s.name}`, `${s.type} ${s.clusterIP ?? 'headless'}`, ...s.ports.map(portText)])}];`);
  }
  for (const m of g.machines) for (const n of m.nics) add(1, `${m.id} -- ${n.segment} [label=${q([n.ifname])}];`);
  for (const m of g.machines) for (const p of m.pods) add(1, `${m.id} -- ${p.id};`);
  for (const r of g.podRoutes) {
    if (r.to) add(1, `${r.from} -- ${r.to} [style=dashed, dir=forward, label=${q([`${g.podNetwork} ${r.dst} via ${r.via}`])}];`);
  }
  for (const s of g.services) {
    for (const e of s.endpoints) {
      const target = e.pod ?? `${s.id}__ep__${e.ip.replace(/\W/g, '_')}`;
      if (!e.pod) add(1, `${target} [shape=ellipse, style=dashed, label=${q([`endpoint ${e.ip}`])}];`);
      add(1, `${s.id} -- ${target} [dir=forward, label=${q([e.ports.join(',')])}];`);
    }
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
