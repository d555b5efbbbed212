// Errors from host calls and the connection-lost notice. Each is dismissible.
import { loadAll } from '../actions';
import { useLab } from '../store';

export function Banners() {
  const errors = useLab((s) => s.errors);
  const disconnected = useLab((s) => s.disconnected);
  if (errors.length === 0 && !disconnected) return null;
  return (
    <div className="ll-banners">
      {disconnected && (
        <div className="ll-banner warn" data-testid="disconnected-banner" role="alert">
          <span>Disconnected from the Latent Lab host. Outputs and runs stop updating until it is back.</span>
          <span className="spacer" />
          <button className="ll-btn ll-small" onClick={() => void loadAll()}>
            Reconnect
          </button>
          <button className="ll-icon-btn" title="Dismiss" onClick={() => useLab.getState().setDisconnected(false)}>
            ✕
          </button>
        </div>
      )}
      {errors.map((e) => (
        <div key={e.id} className="ll-banner error" data-testid="error-banner" role="alert">
          <span className="banner-text">
            {e.text}
            {e.count > 1 ? ` (×${e.count})` : ''}
          </span>
          <span className="spacer" />
          <button className="ll-icon-btn" title="Dismiss" onClick={() => useLab.getState().dismissError(e.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
