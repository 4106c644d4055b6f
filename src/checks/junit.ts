// JUnit XML for CI systems, one testcase per check.
export interface CheckOutcome {
  name: string;
  target: string;
  command: string;
  passed: boolean;
  ms: number;
  attempts: number;
  message?: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c)
    // XML 1.0 forbids most control characters, which command output may contain.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function junitXml(lab: string, outcomes: CheckOutcome[]): string {
  const failures = outcomes.filter((o) => !o.passed).length;
  const total = outcomes.reduce((s, o) => s + o.ms, 0) / 1000;
  const cases = outcomes.map((o) => {
    const head = `  <testcase classname="nslab.${esc(lab)}" name="${esc(o.name)}" time="${(o.ms / 1000).toFixed(3)}">`;
    const failure = o.passed ? '' : `\n    <failure message="${esc(o.message ?? 'failed')}">${esc(`${o.target}: ${o.command}\n${o.message ?? ''}`)}</failure>`;
    const out = `\n    <system-out>${esc(o.stdout)}</system-out>\n    <system-err>${esc(o.stderr)}</system-err>`;
    return `${head}${failure}${out}\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="nslab ${esc(lab)}" tests="${outcomes.length}" failures="${failures}" errors="0" time="${total.toFixed(3)}">`,
    ...cases,
    '</testsuite>',
    '',
  ].join('\n');
}
