// A stopped cell says so calmly: "stopped at step 48 — Resume", not a red error. The
// engine's Interrupted error output is drawn as this note; its run (the cell's live
// view) is the one it offers to resume.
import { ResumeButton } from '../runs/ResumeButton';
import { useLab } from '../store';

export function StopNote({ message, runId }: { message: string; runId: string | null }) {
  const run = useLab((s) => (runId ? s.runs.find((r) => r.id === runId) : undefined));
  // why, when it was not the Stop button (a restart, a cell that would not stop)
  const why = message && message !== 'Interrupted' ? ` (${message})` : '';
  let text: string;
  let resumable = false;
  if (!run) text = `stopped${why}`;
  else if (run.status === 'stopped') {
    text = `stopped at step ${run.steps}${run.totalSteps ? ` of ${run.totalSteps}` : ''}${why}`;
    resumable = true;
  } else if (run.status === 'running') text = 'resumed: training again';
  else text = `stopped, then resumed: the run is ${run.status} at step ${run.steps}`;
  return (
    <div className="out-stopped" data-testid="cell-stopped" data-run-id={runId ?? ''}>
      <span className="out-stopped-icon">■</span> {text}
      {resumable && (
        <>
          {' — '}
          <ResumeButton
            runId={runId!}
            className="ll-btn ll-small"
            testId="stop-resume"
            title="Continue this run from its last checkpoint (its cell runs again; training goes on from the step it stopped at)"
          />
        </>
      )}
    </div>
  );
}
