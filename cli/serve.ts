// voxgrad serve: the browser app with the shipped models and the bundled cases, on this machine.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { createAppServer } from '../web/server.ts';

const usage = `usage: voxgrad serve [--port P] [--host H]
  Serves the browser app (dist/web, written by npm run build), the shipped models (models/) and the
  bundled hippocampus cases (data/hippocampus) at http://127.0.0.1:8080/ (--port 0: any free port),
  cross-origin isolated so that WebAssembly runs on every core. Only 127.0.0.1 listens unless --host
  names another address; the page itself sends nothing anywhere.`;

/** The repository root: dist/cli.js lives one folder below it. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: expected an integer from 0 to 65535`);
  const app = join(root, 'dist', 'web');
  if (!existsSync(join(app, 'index.html'))) throw new Error(`${app}: no built app here; run npm run build first`);
  const server = createAppServer({ '/': app, '/models/': join(root, 'models'), '/data/': join(root, 'data', 'hippocampus') });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e) => fail(new Error(`cannot listen on ${values.host}:${port}: ${(e as Error).message}`)));
    server.listen(port, values.host, ok);
  });
  const address = server.address() as { address: string; port: number };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  console.log(`serving the voxgrad app at http://${host}:${address.port}/ (Ctrl-C stops)`);
  await new Promise<void>((ok) => process.once('SIGINT', () => server.close(() => ok())));
}

export const serveCommand: Command = { name: 'serve', summary: 'the browser app on this machine: segment, view and train in the page', usage, run: serve };
