// The open notebook's kernel in the top bar: not started / idle / waiting / busy, how
// many cells ran in it (Jupyter's In [n]) and how many variables it holds (their names
// on hover). Each notebook has its own kernel; the engine process is shared.
import { useLab } from '../store';
import './kernel.css';

export function KernelStatus() {
  const kernel = useLab((s) => s.kernel);
  const nbPath = useLab((s) => s.notebook?.path ?? null);
  const engineStatus = useLab((s) => s.engine?.status ?? 'starting');
  if (!nbPath) return null;
  const k = kernel && kernel.notebook === nbPath ? kernel : null;
  const status = k?.status ?? 'not started';
  const vars = k?.variables ?? [];
  const label = status === 'queued' ? 'waiting' : status;
  const title =
    `This notebook's kernel (each notebook has its own variables; the engine is shared)\n` +
    (status === 'queued' ? "Its cell waits for another notebook's cell to end.\n" : '') +
    (vars.length > 0 ? `Variables: ${vars.join(', ')}` : 'No variables yet') +
    (engineStatus === 'crashed' ? '\nThe engine crashed: the next cell starts a new one.' : '');
  return (
    <span className={`kernel-state k-${status.replace(' ', '-')}`} data-testid="kernel-state" data-status={status} title={title}>
      <span className="ll-dot" />
      kernel {label}
      {status !== 'not started' && (
        <>
          <span className="k-sep">·</span>
          <span data-testid="kernel-vars">{vars.length} {vars.length === 1 ? 'variable' : 'variables'}</span>
          <span className="k-sep">·</span>
          <span data-testid="kernel-count" title="cells run in this kernel">[{k?.executionCount ?? 0}]</span>
        </>
      )}
    </span>
  );
}
