// The Import dialog's inspection as a child process of the host (see data-inspect.ts):
// one request, one answer, then it exits, and its memory goes with it.
import { inspectNow, type InspectRequest } from './data-inspect';

process.once('message', (req) => {
  const answer = inspectNow(req as InspectRequest);
  process.send?.(answer, () => process.exit(0));
});
// the host went away before asking (or while the import ran): nobody waits for an answer
process.once('disconnect', () => process.exit(0));
