// A check as JUnit XML, the test report every CI system reads: one
// <testsuite> per kernel, one <testcase> per boot (entry path, placement).
// A boot that did not reach x86_64_start_kernel with an identical image is a
// <failure> whose message says what happened; the guest's console goes to
// <system-out>.
import { jobName, type CheckResult, type CheckRow } from '../analysis/check.ts';

/** Text for XML: markup escaped, characters XML 1.0 forbids (most C0 controls, lone surrogates) replaced. */
export function xmlText(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const secs = (s: number) => s.toFixed(3);

function testcase(r: CheckRow): string {
  const classname = `bootpath.check.${r.job.kernel.replace(/[.]/g, '_')}`;
  const L = [`    <testcase classname="${xmlText(classname)}" name="${xmlText(`${jobName(r.job)} to x86_64_start_kernel`)}" time="${secs(r.seconds)}">`];
  if (!r.passed) {
    const details = [
      `kernel: ${r.job.kernel}`, `entry: ${r.job.entry}`, `placement: ${r.job.placement}`,
      `outcome: ${r.outcome} — ${r.reason}`,
      ...(r.outcome === 'error' ? [] : [`stopped in ${r.phase} at ${r.where} after ${r.instructions} instructions`]),
      ...(r.image ? [`image: ${r.image.differing} of ${r.image.compared} bytes differ`, ...r.image.ranges.map((x) => `  0x${x.phys.toString(16)} +${x.length} ${x.where}`)] : []),
    ];
    L.push(`      <failure type="${r.outcome === 'error' ? 'input' : r.outcome === 'reached' ? 'image' : r.outcome}" message="${xmlText(r.failure.includes(r.job.kernel) ? r.failure : `${r.job.kernel}: ${r.failure}`)}">${xmlText(details.join('\n'))}</failure>`);
  }
  if (r.console) L.push(`      <system-out>${xmlText(r.console)}</system-out>`);
  L.push('    </testcase>');
  return L.join('\n');
}

/** The JUnit XML document of a check. */
export function checkJunit(res: CheckResult): string {
  const kernels = [...new Set(res.rows.map((r) => r.job.kernel))];
  const failures = (rows: CheckRow[]) => rows.filter((r) => !r.passed).length;
  const L = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="bootpath check" tests="${res.rows.length}" failures="${failures(res.rows)}" errors="0" time="${secs(res.seconds)}">`];
  for (const k of kernels) {
    const rows = res.rows.filter((r) => r.job.kernel === k);
    L.push(`  <testsuite name="${xmlText(k)}" tests="${rows.length}" failures="${failures(rows)}" errors="0" skipped="0" time="${secs(rows.reduce((t, r) => t + r.seconds, 0))}">`);
    for (const r of rows) L.push(testcase(r));
    L.push('  </testsuite>');
  }
  L.push('</testsuites>');
  return L.join('\n') + '\n';
}
