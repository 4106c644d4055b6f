// Where the picture's data comes from: a lab that is up (its record and its
// API), or a lab file that is not (its plan only: no pods or Services yet).
import { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import { loadLabFile } from '../labfile/parse-lab.js';
import type { LabRecord } from '../plan/lab-record.js';
import { planTopology } from '../plan/topology.js';
import { files, readJson } from '../sys/state-dir.js';
import { clusterView } from './cluster-objects.js';
import { buildGraphModel, type GraphModel } from './model.js';

export async function graphOfFile(file: string): Promise<GraphModel> {
  const spec = await loadLabFile(file);
  return buildGraphModel(planTopology(spec), spec.cluster);
}

export async function graphOfLab(lab: string, client: LabApiClient = LabApiClient.forLab(lab)): Promise<GraphModel> {
  const record = await readJson<LabRecord>(lab, files.lab);
  if (!record) throw new UsageError(`lab "${lab}" is not up: start it with "sudo nslab up", or draw its file with --from-file`);
  const [pods, services, endpoints] = await Promise.all([client.list('/api/v1/pods'), client.list('/api/v1/services'), client.list('/api/v1/endpoints')]);
  return buildGraphModel(record.plan, record.spec.cluster, clusterView(pods, services, endpoints));
}
