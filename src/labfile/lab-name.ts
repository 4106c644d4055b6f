// A lab's name becomes a folder under the state root, a netns prefix, a
// cgroup and a kubeconfig context, so it is checked wherever one enters
// (the command line, --lab, folder listings, the daemon's own argv) before
// it reaches a path or a command.
import { DNS_LABEL_RULE, isDnsLabel } from './names.js';
import { UsageError } from './errors.js';

/** A lab name is an RFC 1123 label, as lab files require: never '', '.', '..' or anything with '/'. */
export function isLabName(name: string): boolean {
  return isDnsLabel(name);
}

/** The name itself, or a UsageError saying what a lab name must be. */
export function assertLabName(name: string, where = 'lab name'): string {
  if (!isLabName(name)) throw new UsageError(`${JSON.stringify(name)} is not a valid ${where}: it must be ${DNS_LABEL_RULE}`);
  return name;
}
