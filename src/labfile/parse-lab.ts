// Lab files: YAML text in, a validated LabSpec with every default filled in
// out, or every problem found, each with its file, line, column and field.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { CheckDraft, HostDraft, LabDraft, NetworkDraft, NicDraft, NodeDraft } from './draft.js';
import { checkLab } from './check-lab.js';
import { LabFileError, formatProblems, sortProblems } from './errors.js';
import { cidrToString } from './ipv4.js';
import { labDirOf, readLab } from './read-lab.js';
import type { CheckSpec, HostSpec, LabSpec, NetworkSpec, NicSpec, NodeSpec, SpecProblem } from './types.js';
import { Walker, type Val } from './walker.js';

export { LabFileError, formatProblems };

export interface ParseLabOptions {
  /** Report manifest files that do not exist (default false). */
  checkFiles?: boolean;
}

export interface ParseLabResult {
  /** Set exactly when there are no problems. */
  lab?: LabSpec;
  /** In file order. */
  problems: SpecProblem[];
}

/**
 * Parses and validates lab file text. `file` names the file in problems and
 * becomes LabSpec.file; manifest paths are resolved against its folder.
 */
export function parseLabText(text: string, file: string, opts: ParseLabOptions = {}): ParseLabResult {
  return parseLab(text, { file, shownFile: file, checkFiles: opts.checkFiles ?? false });
}

/** Reads, parses and validates a lab file; throws LabFileError listing every problem. */
export async function loadLabFile(path: string): Promise<LabSpec> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LabFileError([{ file: path, line: 1, col: 1, field: '', message: readFailure(e) }]);
  }
  const { lab, problems } = parseLab(text, { file, shownFile: path, checkFiles: true });
  if (!lab) throw new LabFileError(problems);
  return lab;
}

function readFailure(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? e.code : undefined;
  if (code === 'ENOENT') return 'cannot read the lab file: no such file; check the path';
  if (code === 'EISDIR') return 'cannot read the lab file: it is a folder; give the path of a .yaml lab file';
  return `cannot read the lab file: ${e instanceof Error ? e.message : String(e)}`;
}

interface ParseContext {
  /** LabSpec.file, and the base of relative manifest paths. */
  file: string;
  /** The file as problems name it: the path as the user gave it. */
  shownFile: string;
  checkFiles: boolean;
}

function parseLab(text: string, ctx: ParseContext): ParseLabResult {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const problems: SpecProblem[] = [];
  const problem = (offset: number, message: string): void => {
    const { line, col } = lines.linePos(offset);
    problems.push({ file: ctx.shownFile, line, col, field: '', message });
  };
  for (const doc of docs) {
    for (const e of doc.errors) problem(e.pos[0], `invalid YAML: ${e.message}${yamlHint(e.code)}`);
  }
  if (problems.length > 0) return { problems: sortProblems(problems) };

  const [doc, ...extra] = docs;
  const extraDoc = extra.find((d) => !isEmpty(d));
  if (extraDoc) {
    problem(
      extraDoc.range[0],
      'a lab file holds a single YAML document; remove this "---" and what follows, or move it to a file of its own',
    );
  }
  if (!doc || isEmpty(doc) || !doc.contents) {
    problem(0, `the lab file is empty; start it with apiVersion: nslab/v1alpha1 and kind: Lab`);
    return { problems: sortProblems(problems) };
  }
  if (!isMap(doc.contents)) {
    problem(doc.contents.range[0], 'the lab file must be a mapping with the fields apiVersion, kind, metadata and spec');
    return { problems: sortProblems(problems) };
  }
  const { draft, problems: found } = validate(doc, lines, ctx);
  problems.push(...found);
  if (problems.length > 0 || !draft) return { problems: sortProblems(problems) };
  return { lab: toLabSpec(draft, ctx.file), problems: [] };
}

/** A document with no content, such as the nothing after a trailing "---". */
function isEmpty(doc: Document.Parsed): boolean {
  return doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null);
}

function validate(doc: Document.Parsed, lines: LineCounter, ctx: ParseContext): { draft?: LabDraft; problems: SpecProblem[] } {
  const w = new Walker(ctx.shownFile, doc, lines);
  const root = w.slot(doc.contents, '');
  const draft = root && readLab(w, root, { labDir: labDirOf(ctx.file), checkFiles: ctx.checkFiles });
  if (draft) checkLab(w, draft);
  return { ...(draft ? { draft } : {}), problems: w.problems };
}

const YAML_HINTS: Partial<Record<string, string>> = {
  DUPLICATE_KEY: '; remove or rename one of the two',
  TAB_AS_INDENT: '; indent with spaces, not tabs',
  BAD_INDENT: '; check the indentation of this line against the lines above',
  MISSING_CHAR: '; a bracket or quote is probably not closed',
};

function yamlHint(code: string): string {
  return YAML_HINTS[code] ?? '';
}

// Building the LabSpec. It runs only when validation found no problem, so
// every value a required field needs is there; `must` guards that promise.

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`internal error: lab file validated but ${what} is missing`);
  return v;
}

function value<T>(v: Val<T> | undefined, what: string): T {
  return must(v, what).value;
}

function toLabSpec(d: LabDraft, file: string): LabSpec {
  const c = d.cluster;
  return {
    name: value(d.name, 'metadata.name'),
    file,
    networks: d.networks.map(toNetwork),
    nodes: d.nodes.map(toNode),
    hosts: d.hosts.map(toHost),
    cluster: {
      podCIDR: cidrToString(value(c.podCIDR, 'podCIDR')),
      nodeCIDRMaskSize: value(c.nodeCIDRMaskSize, 'nodeCIDRMaskSize'),
      serviceCIDR: cidrToString(value(c.serviceCIDR, 'serviceCIDR')),
      nodePortRange: must(c.nodePortRange, 'nodePortRange'),
      proxyMode: must(c.proxyMode, 'proxyMode'),
      ...(c.ipvsScheduler ? { ipvs: { scheduler: c.ipvsScheduler } } : {}),
      podNetwork: must(c.podNetwork, 'podNetwork'),
      dns: { domain: must(c.domain, 'dns.domain') },
    },
    manifests: d.manifests,
    checks: d.checks.map(toCheck),
  };
}

function toNetwork(n: NetworkDraft): NetworkSpec {
  return {
    name: value(n.name, 'network name'),
    cidr: cidrToString(value(n.cidr, 'network cidr')),
    ...(n.gateway ? { gateway: n.gateway.value } : {}),
    perMachine: n.perMachine,
  };
}

function toNic(n: NicDraft): NicSpec {
  return {
    network: value(n.network, 'nic network'),
    address: value(n.address, 'nic address'),
    name: value(n.name, 'nic name'),
    defaultRoute: n.defaultRoute?.value ?? false,
  };
}

function toHost(h: HostDraft): HostSpec {
  return { name: value(h.name, 'host name'), nics: h.nics.map(toNic), dnsRecords: h.dnsRecords ?? {} };
}

function toNode(n: NodeDraft): NodeSpec {
  return {
    name: value(n.name, 'node name'),
    nics: n.nics.map(toNic),
    roles: n.roles,
    ...(n.nodeIP ? { nodeIP: n.nodeIP.value } : {}),
    ...(n.iface ? { iface: n.iface.value } : {}),
    ...(n.hairpin ? { hairpin: n.hairpin.value } : {}),
    ...(n.bridgeNfCallIptables ? { bridgeNfCallIptables: n.bridgeNfCallIptables.value } : {}),
    labels: n.labels,
  };
}

function toCheck(c: CheckDraft): CheckSpec {
  return {
    name: value(c.name, 'check name'),
    from: value(c.from, 'check from'),
    run: value(c.run, 'check run'),
    expect: must(c.expect, 'check expect'),
    timeout: must(c.timeout, 'check timeout'),
  };
}
