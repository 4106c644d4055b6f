// What a lab is once planned: its lab file as read and the plan made from
// it. `up` writes it into the lab's state folder (sys/state-dir.ts); the
// daemon, status, targets and checks read it back.
import type { LabSpec } from '../labfile/types.js';
import type { TopologyPlan } from './topology.js';

export interface LabRecord {
  spec: LabSpec;
  plan: TopologyPlan;
  createdAt: string;
}
