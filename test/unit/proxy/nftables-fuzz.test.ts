// Seeded fuzz of the nftables backend's partial syncs: random Service and
// EndpointSlice changes, syncs at random times, now and then a failed
// transaction; every transaction must be one the kernel accepts (see
// nft-model.ts), and once the stale chains are due the table must be exactly
// what a full sync of the final objects writes into an empty table.
// NSLAB_FUZZ_RUNS sets the number of cases (default 40).
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/api/types.js';
import { buildProxyState } from '../../../src/proxy/iptables.js';
import { renderNftables, type NftablesProxyConfig } from '../../../src/proxy/nftables.js';
import { nftTransaction } from '../../../src/proxy/nft-transaction.js';
import { NftablesProxier } from '../../../src/proxy/nftables-proxier.js';
import { rng } from '../../helpers/fuzz.js';
import { FakeNftNode } from './fake-nft-node.js';
import { applyScript, emptyState, stateView } from './nft-model.js';
import { makeService, makeSlice } from './upstream.js';

const RUNS = Number(process.env['NSLAB_FUZZ_RUNS'] ?? 40);
const STEPS = 25;
const cfg: NftablesProxyConfig = { nodeName: 'worker', nodeIP: '192.168.10.220', clusterCIDR: '10.10.0.0/16', serviceCIDRs: ['10.96.0.0/12'] };

function randomWorld(next: () => number, count: number): Map<string, { svc: KubeObject; slice?: KubeObject }> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const world = new Map<string, { svc: KubeObject; slice?: KubeObject }>();
  for (let i = 0; i < count; i++) {
    if (next() < 0.2) continue;
    const name = `s${i}`;
    const type = pick(['ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer'] as const);
    const ports = [{ name: 'http', port: 80, protocol: 'TCP', ...(type !== 'ClusterIP' ? { nodePort: 30000 + i } : {}) }];
    if (next() < 0.3) ports.push({ name: 'dns', port: 53, protocol: 'UDP', ...(type !== 'ClusterIP' ? { nodePort: 31000 + i } : {}) });
    const spec: Record<string, unknown> = { type, clusterIP: `10.96.0.${10 + i}`, ports };
    if (next() < 0.3) spec['sessionAffinity'] = 'ClientIP';
    if (type !== 'ClusterIP' && next() < 0.4) spec['externalTrafficPolicy'] = 'Local';
    if (next() < 0.2) spec['internalTrafficPolicy'] = 'Local';
    if (next() < 0.2) spec['externalIPs'] = [`192.168.99.${i}`];
    if (type === 'LoadBalancer' && next() < 0.5) spec['loadBalancerSourceRanges'] = ['203.0.113.0/25'];
    const status = type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: `5.6.7.${i}` }] } } : {};
    const svc = makeService('default', name, spec, status);
    const n = Math.floor(next() * 4);
    const eps = Array.from({ length: n }, (_, k) => ({ ip: `10.10.${Math.floor(next() * 2)}.${10 + k + Math.floor(next() * 3) * 10}`, node: pick(['worker', 'master']), ready: next() < 0.85 }));
    const unique = [...new Map(eps.map((e) => [e.ip, e])).values()];
    const slice = n > 0 || next() < 0.5 ? makeSlice('default', name, 1, unique, [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }]) : undefined;
    world.set(name, slice ? { svc, slice } : { svc });
  }
  return world;
}

function objectsOf(world: Map<string, { svc: KubeObject; slice?: KubeObject }>): { services: KubeObject[]; slices: KubeObject[] } {
  const services = [...world.values()].map((w) => w.svc);
  const slices = [...world.values()].flatMap((w) => (w.slice ? [w.slice] : []));
  return { services, slices };
}

describe('nftables partial syncs (seeded fuzz)', () => {
  it(`${RUNS} random histories end in the table a full sync writes, every transaction accepted`, async () => {
    for (let run = 0; run < RUNS; run++) {
      const next = rng(1000 + run);
      let clock = 0;
      const node = new FakeNftNode();
      const p = new NftablesProxier({ ...cfg, netns: 'nslab-fuzz.node-worker', runner: node, minSyncIntervalMs: 0, now: () => clock });
      try {
        let world = randomWorld(next, 6);
        for (let step = 0; step < STEPS; step++) {
          // Change a few services: replace some with fresh random ones, keep the rest (same objects).
          const fresh = randomWorld(next, 6);
          const merged = new Map(world);
          for (const name of new Set([...world.keys(), ...fresh.keys()])) {
            if (next() < 0.3) {
              const f = fresh.get(name);
              if (f) merged.set(name, f);
              else merged.delete(name);
            }
          }
          world = merged;
          if (next() < 0.05) node.failNext = 1;
          clock += Math.floor(next() * 1500);
          const { services, slices } = objectsOf(world);
          const r = await p.sync(services, slices);
          if (r.error && !/Error: Could not process rule/.test(r.error.message)) {
            throw new Error(`run ${run} step ${step}: ${r.error.message}`);
          }
        }
        // Let the stale chains come due, then one more sync deletes them.
        clock += 5000;
        const { services, slices } = objectsOf(world);
        let r = await p.sync(services, slices);
        clock += 5000;
        r = await p.sync();
        expect(r.error, `run ${run}`).toBeUndefined();
        const full = nftTransaction(renderNftables(buildProxyState(services, slices, cfg.nodeName), cfg), {
          full: true,
          changedServices: new Set(),
          existingChains: new Set(),
          staleChains: new Set(),
          existingAffinitySets: new Set(),
          written: new Map(),
        });
        expect(stateView(node.model), `run ${run}`).toEqual(stateView(applyScript(emptyState(), full.script)));
      } finally {
        p.close();
      }
    }
  }, 10_000 + RUNS * 100);
});
