// Does the lab's control plane answer? One request on its unix socket,
// bounded in time as a whole, so a stopped or wedged daemon makes `status`
// and `up` say so instead of hanging.
import http from 'node:http';
import { files, statePath } from '../sys/state-dir.js';

export type ApiProbe = 'answers' | 'no-socket' | 'silent' | 'error';

export function probeApi(lab: string, timeoutMs = 1500): Promise<ApiProbe> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ApiProbe) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = http.request({ socketPath: statePath(lab, files.socket), path: '/readyz', method: 'GET' }, (res) => {
      res.resume();
      finish('answers');
    });
    const timer = setTimeout(() => finish('silent'), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no-socket' : 'error'));
    req.end();
  });
}
