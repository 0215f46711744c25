// Debian's chromium for the browser tests, with the flags of ../shared/docs/webgpu-on-cpu.md: WebGPU
// on, and nothing that reaches for the network. No tool may download a browser here.
import { existsSync } from 'node:fs';
import * as assert from 'uvu/assert';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/** Whether chromium is here; without it a test is reported and skipped, except under CI=true, where it fails. */
export function haveChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') assert.unreachable(`${CHROMIUM} is missing (apt-get install chromium)`);
  console.warn(`\n  ${CHROMIUM} missing: ${what} skipped (apt-get install chromium)`);
  return false;
}
