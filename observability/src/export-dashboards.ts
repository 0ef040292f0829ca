// `npm run observability:dashboards`: writes the typed dashboards to grafana/dashboards/*.json.
import { writeFile } from 'node:fs/promises';
import { platformDashboard } from './platform-dashboard.js';

export const DASHBOARDS = { 'platform.json': platformDashboard };

export function render(dashboard: object): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, dashboard] of Object.entries(DASHBOARDS)) {
    await writeFile(new URL(`../grafana/dashboards/${file}`, import.meta.url), render(dashboard));
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
