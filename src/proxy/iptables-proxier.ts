// kube-proxy's iptables mode for one node netns: the shared change tracker and
// sync loop driving the iptables backend.
import type { CommandRunner } from '../sys/runner.js';
import { IptablesBackend, type IptablesBackendOptions } from './iptables-backend.js';
import { ProxySyncLoop, type SyncLoopOptions } from './sync-loop.js';

export type { SyncResult } from './sync-loop.js';

export interface IptablesProxierOptions extends IptablesBackendOptions, SyncLoopOptions {
  netns: string;
  runner: CommandRunner;
  nodeName: string;
}

export class IptablesProxier extends ProxySyncLoop {
  constructor(opts: IptablesProxierOptions) {
    super(new IptablesBackend(opts), opts);
  }
}
