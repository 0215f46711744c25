// The consumer's browser entry: esbuild bundles it for browsers (platform browser), which resolves
// 'voxgrad' to the package's browser build; no Node built-in may be pulled in.
import { tensor, grad, sum, mul, conv3d, nn, parseNifti, setBackend } from 'voxgrad';

export async function main(): Promise<number> {
  await setBackend('wasm');
  const [dx] = grad((x) => sum(mul(x, x)), [tensor([1, 2, 3])]);
  void conv3d; void nn.VNet; void parseNifti;
  return (await dx.data())[2];
}
