// Runs every built test file with uvu and ends with the line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';

const pattern = `${process.argv[2] ?? ''}.*\.test\.js$`;
const r = spawnSync(process.execPath, ['node_modules/uvu/bin.js', 'build/test', pattern], {
  encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env,
});
process.stdout.write(r.stdout ?? '');
const num = (label) => Number((r.stdout ?? '').match(new RegExp(`${label}:\\s+(\\d+)`))?.[1] ?? 0);
const total = num('Total'), passed = num('Passed'), skipped = num('Skipped');
const failed = r.status === 0 ? total - passed - skipped : Math.max(total - passed - skipped, 1);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
