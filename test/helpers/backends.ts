// Which backends the shared suites run on, and their tolerances (DEVELOPERS brief: forward 1e-5 and
// gradients 1e-4 on ref/wasm; 1e-4 and 1e-3 on webgpu). VOXGRAD_TEST_BACKENDS=ref,wasm narrows the list.
import * as vg from '../../index.ts';

export interface TestBackend {
  name: string;
  forwardTol: number;
  gradTol: number;
}

const tolerances: Record<string, [number, number]> = { webgpu: [1e-4, 1e-3] };

export function testBackends(): TestBackend[] {
  const wanted = (process.env.VOXGRAD_TEST_BACKENDS ?? 'ref,wasm,webgpu').split(',').map((s) => s.trim());
  return wanted
    .filter((name) => vg.registeredBackends().includes(name))
    .map((name) => {
      const [forwardTol, gradTol] = tolerances[name] ?? [1e-5, 1e-4];
      return { name, forwardTol, gradTol };
    });
}

/**
 * Selects a backend for a suite. A backend that cannot start here (no adapter) is reported and
 * skipped, except under CI=true, where it fails the run.
 */
export async function useBackend(name: string): Promise<boolean> {
  try {
    await vg.setBackend(name);
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    console.warn(`\n  backend '${name}' unavailable here, its suite is skipped: ${(err as Error).message}`);
    return false;
  }
}
