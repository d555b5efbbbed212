// Left sidebar: notebooks of the workspace (grouped by family, with search), then runs.
import { RunsPanel } from '../runs/RunsPanel';
import { NotebooksPanel } from '../workspace/NotebooksPanel';

export function Sidebar() {
  return (
    <aside className="sidebar">
      <NotebooksPanel />
      <RunsPanel />
    </aside>
  );
}
