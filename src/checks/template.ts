// Live values in checks: {{ service "ngx-svc" "nodePort" }}, {{ pod "app=ngx-dep" "ip" }},
// {{ node "worker" "ip" }}. Rendering is pure over a lookup the caller provides.
export interface TemplateCall {
  fn: string;
  args: string[];
}

export type Lookup = (call: TemplateCall) => Promise<string>;

const CALL = /\{\{\s*([A-Za-z]+)((?:\s+"[^"]*")*)\s*\}\}/g;

export function templateCalls(text: string): TemplateCall[] {
  return [...text.matchAll(CALL)].map((m) => ({
    fn: m[1] ?? '',
    args: [...(m[2] ?? '').matchAll(/"([^"]*)"/g)].map((a) => a[1] ?? ''),
  }));
}

export async function renderTemplate(text: string, lookup: Lookup): Promise<string> {
  const values = await Promise.all(templateCalls(text).map(lookup));
  let i = 0;
  const rendered = text.replace(CALL, () => values[i++] ?? '');
  if (/\{\{|\}\}/.test(rendered)) throw new Error(`malformed template in: ${text} (use {{ service "NAME" "nodePort" }})`);
  return rendered;
}
