/**
 * The app shell: navigation, theme, and one route per page. Every page reads only the GraphQL API
 * (lib/graphql.ts); filters and tabs live in the URL so every view can be linked.
 */
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { createBrowserRouter, NavLink, Outlet } from 'react-router';
import { applyTheme, initialTheme, type Theme } from './lib/theme.ts';
import Overview from './pages/Overview.tsx';

const Drill = lazy(() => import('./pages/Drill.tsx'));
const Errors = lazy(() => import('./pages/Errors.tsx'));
const ErrorDetail = lazy(() => import('./pages/ErrorDetail.tsx'));
const Workloads = lazy(() => import('./pages/Workloads.tsx'));
const Incidents = lazy(() => import('./pages/Incidents.tsx'));
const IncidentDetail = lazy(() => import('./pages/IncidentDetail.tsx'));
const Anomalies = lazy(() => import('./pages/Anomalies.tsx'));
const Recommendations = lazy(() => import('./pages/Recommendations.tsx'));
const Settings = lazy(() => import('./pages/Settings.tsx'));
const Fleet = lazy(() => import('./pages/Fleet.tsx'));

const NAV: [string, string][] = [
  ['/', 'Overview'],
  ['/fleet', 'Fleet'],
  ['/drill', 'Scores'],
  ['/errors', 'Errors'],
  ['/workloads', 'Workloads'],
  ['/incidents', 'Incidents'],
  ['/anomalies', 'Anomalies'],
  ['/recommendations', 'Recommendations'],
  ['/settings', 'Settings'],
];

function Layout() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => applyTheme(theme), [theme]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">hetu</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <NavLink to={to} end={to === '/'}>
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          className="theme-toggle"
          aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}

function page(element: ReactNode) {
  return element;
}

export const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    children: [
      { index: true, element: page(<Overview />) },
      { path: 'drill', element: page(<Drill />) },
      { path: 'errors', element: page(<Errors />) },
      { path: 'errors/:id', element: page(<ErrorDetail />) },
      { path: 'workloads', element: page(<Workloads />) },
      { path: 'incidents', element: page(<Incidents />) },
      { path: 'incidents/:id', element: page(<IncidentDetail />) },
      { path: 'anomalies', element: page(<Anomalies />) },
      { path: 'recommendations', element: page(<Recommendations />) },
      { path: 'settings', element: page(<Settings />) },
      { path: 'fleet', element: page(<Fleet />) },
    ],
  },
]);
