// Beside an estimated NLL (AIS, IWAE): its error bar in nats and, when the estimate's
// convergence check failed, a flag that says by how much 4× the knob moved it.
import { convergenceFromMetrics, convergenceNote } from '../../../shared/convergence';
import { formatNumber } from './format';

/** `metrics`: a run's last values by key (finalMetrics) */
export function EstimateNote({ metrics }: { metrics: Record<string, number> }) {
  const se = metrics['test/nll_stderr'];
  const conv = convergenceFromMetrics((k) => metrics[k], Object.keys(metrics));
  if (se === undefined && !conv) return null;
  const note = conv ? convergenceNote(conv) : '';
  return (
    <span className="estimate-note" data-testid="estimate-note" title={note || undefined}>
      {se !== undefined && Number.isFinite(se) && <span className="estimate-stderr"> ± {formatNumber(se)} nats</span>}
      {conv && !conv.converged && (
        <span className="estimate-unconverged" data-testid="estimate-unconverged">
          {' '}
          {note}
        </span>
      )}
      {conv && conv.converged && <span className="estimate-converged"> (4× {conv.knob === 'betas' ? 'temperatures' : conv.knob}: within {conv.tolerance})</span>}
    </span>
  );
}
