import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SupervisorApp } from './supervisor-app.tsx';
import '../lib/base.css';
import '../console/console.css';
import './supervisor.css';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <SupervisorApp />
    </StrictMode>,
  );
}
