import { createRoot } from 'react-dom/client';

// Placeholder shell; the app issue replaces this with src/app/App.tsx.
const root = document.getElementById('root');
if (root) createRoot(root).render(<main data-testid="app-root">PGDiff Restore</main>);
