// Shared by the tests that start a built `latentlab serve` as its own process (not a test file itself).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { root } from './paths';


/** `latentlab serve --workspace DIR --port 0` from the build, and the URL (with its token) it prints. */
export async function startServeProcess(workspace: string, timeoutMs = 240_000): Promise<{ proc: ChildProcess; url: URL }> {
  const proc = spawn(process.execPath, [join(root, 'bin', 'latentlab.js'), 'serve', '--workspace', workspace, '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not print its URL:\n${out}`));
    }, timeoutMs);
    const check = () => {
      const m = /Open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      } else if (proc.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${proc.exitCode}:\n${out}`));
      } else setTimeout(check, 50);
    };
    check();
  });
  return { proc, url: new URL(url) };
}
