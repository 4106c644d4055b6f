// `nslab capture`: tcpdump in one of a running lab's namespaces, as a lab
// process (so `nslab down` stops it), bounded by a packet count and/or time.
import type { LabApiClient } from '../client/api-client.js';
import { UsageError } from '../labfile/errors.js';
import type { LabRecord } from '../plan/lab-record.js';
import type { ProcessExit, ProcessLauncher } from '../sys/launcher.js';
import { spawnLabProcess } from '../sys/lab-process.js';
import { tcpdumpArgv } from '../sys/tcpdump.js';
import { resolveNetnsTarget, splitTargetIface, type NetnsTarget } from './targets.js';

export interface CaptureRequest {
  lab: string;
  record: LabRecord;
  api: LabApiClient;
  /** TARGET[:IFACE] */
  target: string;
  namespace?: string;
  count?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  write?: string;
  filter?: string[];
  /** Called once tcpdump runs, with what it captures on. */
  onStart?: (t: NetnsTarget, iface: string) => void;
}

export interface CaptureResult {
  target: NetnsTarget;
  iface: string;
  exit: ProcessExit;
  /** The time bound ended it. */
  timedOut: boolean;
}

export async function capture(req: CaptureRequest, launcher: ProcessLauncher): Promise<CaptureResult> {
  const { target, iface: named } = splitTargetIface(req.target);
  const t = await resolveNetnsTarget(req.lab, req.record, req.api, target, req.namespace);
  const iface = named ?? t.defaultIface;
  if (req.count !== undefined && !(Number.isInteger(req.count) && req.count > 0)) throw new UsageError(`--count must be a positive whole number (got ${req.count})`);
  if (req.seconds !== undefined && !(req.seconds > 0)) throw new UsageError(`--seconds must be positive (got ${req.seconds})`);
  const argv = tcpdumpArgv(t.netns, {
    iface,
    ...(req.count !== undefined ? { count: req.count } : {}),
    ...(req.write !== undefined ? { write: req.write } : {}),
    ...(req.filter?.length ? { filter: req.filter } : {}),
  });
  // tcpdump's packets (or pcap) go straight to our stdout, its notes to our stderr.
  const child = await spawnLabProcess(req.lab, launcher, argv, { stdio: ['ignore', 1, 2] });
  req.onStart?.(t, iface);
  let timedOut = false;
  // Ctrl-C reaches tcpdump too (same process group): let it print its counts and end.
  const onSigint = () => undefined;
  process.on('SIGINT', onSigint);
  try {
    const exit = await new Promise<ProcessExit>((resolve, reject) => {
      child.onError(reject);
      const timer =
        req.seconds !== undefined
          ? setTimeout(() => {
              timedOut = true;
              child.kill('SIGINT');
            }, req.seconds * 1000)
          : undefined;
      child.onExit((e) => {
        if (timer) clearTimeout(timer);
        resolve(e);
      });
    });
    return { target: t, iface, exit, timedOut };
  } finally {
    process.off('SIGINT', onSigint);
  }
}
