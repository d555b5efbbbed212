import type { RunStatus } from '../../../shared/domain';

const MEANING: Record<RunStatus, string> = {
  running: 'training now',
  finished: 'trained every step',
  stopped: 'stopped by you; it can resume from its last checkpoint',
  failed: 'ended by an error in the cell',
  crashed: 'the engine or the app died under it (killed, out of memory); what it logged is kept and it can resume from its last checkpoint',
  diverged: 'a metric became NaN or infinite; it stopped at that step and kept its last good checkpoint',
};

export function StatusChip({ status }: { status: RunStatus }) {
  return (
    <span className={`chip chip-${status}`} title={MEANING[status]} data-testid="status-chip">
      {status}
    </span>
  );
}
