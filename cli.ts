#!/usr/bin/env node
// voxgrad command line: one command per file under cli/, each with its own usage; this file picks
// the command, answers --help and --version, and turns a command line that cannot run into its
// usage (exit 2) and any other failure into one line naming the problem (exit 1).
import { demoCommand } from './cli/demo.ts';
import { evaluateCommand } from './cli/evaluate.ts';
import { experimentsCommand } from './cli/experiments.ts';
import { metricsCommand } from './cli/metrics.ts';
import { predictCommand } from './cli/predict.ts';
import { serveCommand } from './cli/serve.ts';
import { trainCommand } from './cli/train.ts';
import { UsageError, type Command } from './cli/command.ts';
import { disposeBackends } from './engine/registry.ts';
import { version } from './package.json';

const commands: Command[] = [demoCommand, trainCommand, predictCommand, evaluateCommand, metricsCommand, experimentsCommand, serveCommand];
const width = Math.max(...commands.map((c) => c.name.length));
const usage = `usage: voxgrad <command> [options]      voxgrad <command> --help: that command's options

${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

  --help, -h     this text
  --version, -v  voxgrad's version`;

const isHelp = (a: string) => a === '--help' || a === '-h';
const [name, ...argv] = process.argv.slice(2);
if (name === undefined) {
  console.error(usage);
  process.exit(0);
}
if (isHelp(name)) {
  console.log(usage);
  process.exit(0);
}
if (name === '--version' || name === '-v') {
  console.log(version);
  process.exit(0);
}
const command = commands.find((c) => c.name === name);
if (!command) {
  console.error(`voxgrad: unknown command "${name}"\n\n${usage}`);
  process.exit(2);
}
// Everything after "--" is an operand, never a request for help.
const flags = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
if (flags.some(isHelp)) {
  console.log(command.usage);
  process.exit(0);
}
try {
  await command.run(argv);
  // a GPU device left open keeps the process alive on some drivers: every command gives its back,
  // on failure too (before process.exit, which would skip the device's teardown)
  disposeBackends();
} catch (e) {
  disposeBackends();
  const code = (e as { code?: string }).code;
  if (e instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
    const unknown = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'([^']+)'/.exec((e as Error).message)?.[1];
    console.error(`voxgrad ${name}: ${unknown ? `unknown option '${unknown}'` : (e as Error).message}\n\n${command.usage}`);
    process.exit(2);
  }
  console.error(`voxgrad ${name}: ${(e as Error).message}`);
  process.exit(1);
}
