/** What a subcommand writes to, so tests can run one in-process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Standard output and error of this process. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** A subcommand: its usage text and what runs it. */
export interface Subcommand {
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<void>;
}
