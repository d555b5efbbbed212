// Writing a file under a root folder (artifacts, checkpoints) so that a failed write
// leaves nothing behind that a tracker row could point at.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFile(root: string, rel: string, data: Buffer | string): void {
  const abs = path.join(root, ...rel.split('/'));
  try {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
  } catch (e) {
    // a full disk must not leave half a file that a row could point at
    fs.rmSync(abs, { force: true });
    throw new Error(`could not write ${abs}: ${(e as Error).message}`);
  }
}
