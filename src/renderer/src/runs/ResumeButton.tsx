// Resume: the run's recorded cell runs again and its training continues from the newest
// checkpoint. The run header and a stopped cell's note both offer it.
import { useState } from 'react';
import { guard } from '../actions';
import { getApi } from '../api/client';

export function ResumeButton({
  runId,
  className = 'll-btn run-resume',
  testId = 'run-resume',
  title = 'Continue this run from its last checkpoint (what it logged after that checkpoint is dropped)',
}: {
  runId: string;
  className?: string;
  testId?: string;
  title?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      className={className}
      data-testid={testId}
      disabled={busy}
      title={title}
      onClick={() => {
        setBusy(true);
        // resolves when the resumed training ends; the run view follows it live meanwhile
        void guard(`Resuming run ${runId}`, () => getApi().call('runs.resume', { id: runId })).finally(() => setBusy(false));
      }}
    >
      {busy ? 'Resuming…' : 'Resume'}
    </button>
  );
}
