import type { RunStatus } from '../../../shared/domain';

export function StatusChip({ status }: { status: RunStatus }) {
  return <span className={`chip chip-${status}`}>{status}</span>;
}
