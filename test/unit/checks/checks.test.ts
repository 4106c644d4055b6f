import { describe, expect, it } from 'vitest';
import { splitWords } from '../../../src/checks/words.js';
import { renderTemplate, templateCalls } from '../../../src/checks/template.js';
import { mismatch } from '../../../src/checks/expect.js';
import { junitXml } from '../../../src/checks/junit.js';
import { runCheck } from '../../../src/checks/run-checks.js';
import { RecordingRunner } from '../../../src/sys/runner.js';
import { LabApiClient } from '../../../src/client/api-client.js';
import { planTopology } from '../../../src/plan/topology.js';
import { courseLab } from '../../helpers/labs.js';

describe('splitWords', () => {
  it('splits like a shell, without one', () => {
    expect(splitWords(`curl -s 'http://a b/' "x \\"y\\"" c\\ d`)).toEqual(['curl', '-s', 'http://a b/', 'x "y"', 'c d']);
    expect(splitWords('sh -c "echo $HOME; rm -rf /"')).toEqual(['sh', '-c', 'echo $HOME; rm -rf /']);
    expect(() => splitWords('echo "oops')).toThrow(/unterminated/);
  });
});

describe('templates', () => {
  it('finds and fills live values', async () => {
    const text = 'curl -s http://192.168.10.220:{{ service "ngx-svc" "nodePort" }}/ {{node "worker" "ip"}}';
    expect(templateCalls(text)).toEqual([
      { fn: 'service', args: ['ngx-svc', 'nodePort'] },
      { fn: 'node', args: ['worker', 'ip'] },
    ]);
    expect(await renderTemplate(text, async (c) => (c.fn === 'service' ? '30651' : '192.168.10.220'))).toBe(
      'curl -s http://192.168.10.220:30651/ 192.168.10.220',
    );
  });

  it('refuses a malformed template', async () => {
    await expect(renderTemplate('x {{ service ngx-svc }}', async () => '')).rejects.toThrow(/malformed/);
  });
});

describe('expectations', () => {
  const ok = { exitCode: 0, stdout: 'srv : 10.10.1.5:80\n', stderr: '' };
  it('default to exit code 0', () => {
    expect(mismatch({}, ok)).toBeUndefined();
    expect(mismatch({}, { ...ok, exitCode: 1 })).toBe('exit code 1, expected 0');
  });
  it('match substrings and /regexes/', () => {
    expect(mismatch({ stdout: 'srv : 10.10.' }, ok)).toBeUndefined();
    expect(mismatch({ stdout: '/^srv : 10\\.10\\.\\d+\\.\\d+:80$/m' }, ok)).toBeUndefined();
    expect(mismatch({ stdout: 'host: ngx' }, ok)).toBe('stdout "srv : 10.10.1.5:80", expected to contain "host: ngx"');
  });
});

describe('junit', () => {
  it('writes one testcase per check with failures', () => {
    const xml = junitXml('default', [
      { name: 'a <b>', target: 'host/console', command: 'ping', passed: true, ms: 12, attempts: 1, stdout: '', stderr: '', exitCode: 0 },
      { name: 'c', target: 'node/worker', command: 'curl', passed: false, ms: 1500, attempts: 3, message: 'exit code 7, expected 0', stdout: '', stderr: 'refused\u0007', exitCode: 7 },
    ]);
    expect(xml).toContain('<testsuite name="nslab default" tests="2" failures="1"');
    expect(xml).toContain('name="a &lt;b&gt;"');
    expect(xml).toContain('<failure message="exit code 7, expected 0">');
    expect(xml).not.toContain('\u0007');
  });
});

describe('runCheck', () => {
  const spec = courseLab();
  const env = (runner: RecordingRunner) => ({
    record: { spec, plan: planTopology(spec), createdAt: '' },
    api: new LabApiClient('/nonexistent.sock'),
    runner,
    retryMs: 10,
  });

  it('runs in the machine namespace with the argument array and passes', async () => {
    const runner = new RecordingRunner(() => ({ stdout: '1 received' }));
    const o = await runCheck(env(runner), {
      name: 'ping', from: 'host/console', run: 'ping -c1 {{ node "worker" "ip" }}', expect: { stdout: '1 received' }, timeout: 1,
    });
    expect(o.passed).toBe(true);
    expect(runner.calls[0]?.argv).toEqual(['ip', 'netns', 'exec', 'nslab-default.host-console', 'ping', '-c1', '192.168.10.220']);
  });

  it('retries until the deadline and says why it failed', async () => {
    const runner = new RecordingRunner(() => ({ exitCode: 1, stdout: '0 received' }));
    const o = await runCheck(env(runner), { name: 'ping', from: 'node/worker', run: 'false', expect: {}, timeout: 0.2 });
    expect(o.passed).toBe(false);
    expect(o.attempts).toBeGreaterThan(1);
    expect(o.message).toBe('exit code 1, expected 0');
  });
});
