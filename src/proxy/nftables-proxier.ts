// kube-proxy's nftables mode for one node netns: the shared change tracker and
// sync loop driving the nftables backend.
import type { CommandRunner } from '../sys/runner.js';
import { NftablesBackend, type NftablesBackendOptions } from './nftables-backend.js';
import { ProxySyncLoop, type SyncLoopOptions } from './sync-loop.js';

export interface NftablesProxierOptions extends NftablesBackendOptions, SyncLoopOptions {
  netns: string;
  runner: CommandRunner;
  nodeName: string;
}

export class NftablesProxier extends ProxySyncLoop {
  constructor(opts: NftablesProxierOptions) {
    super(new NftablesBackend(opts), opts);
  }
}
