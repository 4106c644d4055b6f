// A process that belongs to a lab although a command (not the daemon) starts
// it, e.g. the tcpdump of `nslab capture`: started from inside the lab's
// cgroup, so it is in it from its first instruction and `nslab down` kills
// it with the lab. Without a cgroup v2 it still runs in one of the lab's
// recorded network namespaces, which `down` also empties (netns-record.ts).
import { enterLabCgroup } from './cgroup.js';
import type { LaunchedProcess, LaunchOptions, ProcessLauncher } from './launcher.js';

export async function spawnLabProcess(lab: string, launcher: ProcessLauncher, argv: readonly string[], opts: LaunchOptions = {}): Promise<LaunchedProcess> {
  const inside = await enterLabCgroup(lab);
  try {
    return launcher.spawn(argv, opts);
  } finally {
    // Only the child stays in the lab's cgroup; this command leaves it again.
    await inside?.leave();
  }
}
