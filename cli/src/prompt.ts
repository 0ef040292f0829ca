import { createInterface } from 'node:readline';
import { CliError } from './errors.js';

/** All of stdin (a pipe), trimmed of its final newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * A value that must never be in argv (a token, an env value): from stdin when it is a pipe, else
 * asked for on the terminal without echo.
 */
export async function readSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) return readStdin();
  return ask(question, true);
}

export function ask(question: string, hidden = false): Promise<string> {
  if (!process.stdin.isTTY)
    throw CliError.usage(`${question.replace(/:\s*$/, '')} is needed; pass it as an option`);
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) {
      // Echo nothing of what is typed (the question itself is written before muting).
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(question)) write.call(rl, s);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(answer.trim());
    });
  });
}
