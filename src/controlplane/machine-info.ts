// What a kubelet reads about the machine it runs on.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { goArch, type MachineInfo } from './bootstrap-objects.js';

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

export function osImage(osRelease: string): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease);
  return m?.[1] ?? 'Linux';
}

/** Each node is its own machine, so it gets its own stable machine ID. */
export function machineInfo(nodeName: string): MachineInfo {
  const hostId = readOr('/etc/machine-id', os.hostname());
  return {
    osImage: osImage(readOr('/etc/os-release', '')),
    kernelVersion: os.release(),
    architecture: goArch(process.arch),
    cpus: os.cpus().length,
    memoryKi: Math.floor(os.totalmem() / 1024),
    bootID: readOr('/proc/sys/kernel/random/boot_id', ''),
    machineID: createHash('sha256').update(`${hostId}/${nodeName}`).digest('hex').slice(0, 32),
  };
}
