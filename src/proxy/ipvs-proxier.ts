// kube-proxy's ipvs mode for one node netns: the shared change tracker and
// sync loop driving the ipvs backend.
import { IpvsBackend, type IpvsBackendOptions } from './ipvs-backend.js';
import { ProxySyncLoop, type SyncLoopOptions } from './sync-loop.js';

export interface IpvsProxierOptions extends IpvsBackendOptions, SyncLoopOptions {}

export class IpvsProxier extends ProxySyncLoop {
  constructor(opts: IpvsProxierOptions) {
    super(new IpvsBackend(opts), opts);
  }
}
