import { render } from '@testing-library/react';
import { App } from '../app.js';

/** The whole dashboard (its own router and query cache) opened at `path`, as a reload would. */
export function renderApp(path: string) {
  history.replaceState(null, '', path);
  return render(<App />);
}
