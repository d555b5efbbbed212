// Small line icons for the sidebar's buttons (SVG: they draw the same with any font).
const svg = (d: string) =>
  function Icon() {
    return (
      <svg width="13" height="13" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
        <path d={d} />
      </svg>
    );
  };

export const PlusIcon = svg('M8 3v10M3 8h10');
export const CopyIcon = svg('M5.5 5.5h7v8h-7zM3.5 10.5v-8h7');
export const PencilIcon = svg('M10.5 2.5l3 3-8 8H2.5v-3zM9 4l3 3');
export const TrashIcon = svg('M2.5 4.5h11M6 4.5V2.5h4v2M4 4.5l.7 9h6.6l.7-9M6.5 7v4.5M9.5 7v4.5');
