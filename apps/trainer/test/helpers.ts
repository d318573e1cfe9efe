import { Writable } from 'node:stream';
import { main } from '../src/main.js';

/** Runs the CLI in-process and captures what it prints. */
export async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const err = Object.assign(
    sink((t) => (stderr += t)),
    { isTTY: false },
  ) as unknown as NodeJS.WriteStream;
  const code = await main(argv, { stdout: sink((t) => (stdout += t)), stderr: err });
  return { code, stdout, stderr };
}
