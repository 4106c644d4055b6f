// Rolling updates under random shapes and random pod start-up: at every
// step the pods stay within replicas + maxSurge, available pods never drop
// below replicas - maxUnavailable, and the rollout always finishes.
// Seeded; NSLAB_FUZZ_RUNS sets how many rollouts (300 by default).
import { describe, expect, it } from 'vitest';
import { rng } from '../../helpers/fuzz.js';
import { maxSurge, maxUnavailable, rollingUpdateStep, type IntOrString, type ReplicaSetFacts, type Strategy } from '../../../src/workloads/rollout.js';

const RUNS = Number(process.env['NSLAB_FUZZ_RUNS'] ?? 300);

describe('rolling update (fuzz)', () => {
  it('keeps within maxSurge and maxUnavailable and always completes', () => {
    const next = rng(9);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
    for (let run = 0; run < RUNS; run++) {
      const desired = 1 + Math.floor(next() * 10);
      const strategy: Strategy = {
        rollingUpdate: {
          maxSurge: pick<IntOrString>([0, 1, 2, '0%', '25%', '50%', '100%']),
          maxUnavailable: pick<IntOrString>([0, 1, 3, '0%', '25%', '50%']),
        },
      };
      const ceiling = desired + maxSurge(strategy, desired);
      const floor = desired - maxUnavailable(strategy, desired);
      const readyChance = 0.1 + next() * 0.8;
      // Old pods all available; new pods start unavailable and turn available at random.
      let oldRS: ReplicaSetFacts = { name: 'old', replicas: desired, available: desired, creationTimestamp: '1' };
      let newRS: ReplicaSetFacts = { name: 'new', replicas: 0, available: 0, creationTimestamp: '2' };
      const where = () => `run ${run}: desired ${desired}, ${JSON.stringify(strategy.rollingUpdate)}, new ${JSON.stringify(newRS)}, old ${JSON.stringify(oldRS)}`;
      let ticks = 0;
      while (!(newRS.available === desired && oldRS.replicas === 0)) {
        expect(++ticks, where()).toBeLessThan(2000);
        // The controller runs until a pass changes nothing, as the reconcile loop does.
        for (let pass = 0; pass < 50; pass++) {
          const steps = rollingUpdateStep(desired, strategy, newRS, [oldRS]);
          if (steps.size === 0) break;
          const o = steps.get('old');
          // A ReplicaSet scaling down deletes unavailable pods first.
          if (o !== undefined) oldRS = { ...oldRS, replicas: o, available: Math.min(oldRS.available, o) };
          const n = steps.get('new');
          if (n !== undefined) newRS = { ...newRS, replicas: n, available: Math.min(newRS.available, n) };
          expect(newRS.replicas + oldRS.replicas, where()).toBeLessThanOrEqual(ceiling);
          expect(newRS.available + oldRS.available, where()).toBeGreaterThanOrEqual(Math.min(floor, desired));
          expect(newRS.replicas, where()).toBeLessThanOrEqual(desired);
        }
        for (let i = newRS.available; i < newRS.replicas; i++) if (next() < readyChance) newRS = { ...newRS, available: newRS.available + 1 };
      }
    }
  });
});
