// Preloaded (node --import) into a CLI run by test/webgpu-cli-exit.test.ts: counts the GPU devices the
// process opens and destroys, and prints both as it exits, because on SwiftShader an open device does
// not keep Node alive, so only this count shows a command that leaves its device open.
import { globals } from 'webgpu';

const { GPUAdapter, GPUDevice } = globals;
const requestDevice = GPUAdapter.prototype.requestDevice, destroy = GPUDevice.prototype.destroy;
let opened = 0, destroyed = 0;
GPUAdapter.prototype.requestDevice = function (...args) { opened++; return requestDevice.apply(this, args); };
GPUDevice.prototype.destroy = function () { destroyed++; return destroy.call(this); };
process.on('exit', () => process.stderr.write(`GPU devices opened ${opened}, destroyed ${destroyed}\n`));
