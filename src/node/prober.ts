// The readiness prober of one running container (the kubelet's prober
// worker): an HTTP GET from the node's netns on the probe's schedule; the
// decisions (thresholds, delays) are the pure functions of probes.ts.
import { inNetns } from '../sys/netns.js';
import type { CommandRunner } from '../sys/runner.js';
import { afterProbe, INITIAL_PROBE_STATE, nextProbeDelay, probeSucceeded, probeUrl, type ContainerPort, type HttpGetProbe, type ProbeState } from './probes.js';

export interface ProberOptions {
  runner: CommandRunner;
  /** The node's netns, where the GET is sent from. */
  nodeNetns: string;
  probe: HttpGetProbe;
  podIP: string;
  ports?: ContainerPort[];
  /** Readiness changed; `url` is the probed URL (undefined: no such port). */
  onChange(ready: boolean, url: string | undefined): void;
}

export class ReadinessProber {
  private current: ProbeState = INITIAL_PROBE_STATE;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: ProberOptions) {}

  get state(): ProbeState {
    return this.current;
  }

  /** Probes after the probe's initial delay, then on its period until stopped. */
  start(): void {
    this.schedule((this.o.probe.initialDelaySeconds ?? 0) * 1000);
  }

  /** No more probes; a probe in flight is not counted. The last readiness stays readable. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.probeOnce(), delayMs);
  }

  private async probeOnce(): Promise<void> {
    if (this.stopped) return;
    const { probe } = this.o;
    const url = probeUrl(probe, this.o.podIP, this.o.ports);
    let ok = false;
    if (url) {
      const timeout = String(probe.timeoutSeconds ?? 1);
      const r = await this.o.runner.run(inNetns(this.o.nodeNetns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', timeout, url]), { allowFailure: true });
      ok = probeSucceeded(r.stdout.trim());
    }
    if (this.stopped) return;
    const before = this.current.ready;
    this.current = afterProbe(this.current, ok, probe);
    if (this.current.ready !== before) this.o.onChange(this.current.ready, url);
    this.schedule(nextProbeDelay(this.current, probe));
  }
}
