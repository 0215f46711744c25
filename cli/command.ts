// What a voxgrad command is to the dispatcher (cli.ts): its name, one line saying what it does, its
// usage (the only copy: --help prints it, the README points there) and the work.
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}

/** A command line that cannot run as given: the dispatcher prints it with the usage and exits 2. */
export class UsageError extends Error {}
