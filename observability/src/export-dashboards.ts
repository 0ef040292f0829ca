// `npm run observability:dashboards`: writes the typed dashboards to grafana/dashboards/*.json.
import { writeFile } from 'node:fs/promises';
import { buildsDashboard } from './builds-dashboard.js';
import { edgeDashboard } from './edge-dashboard.js';
import { resourcesDashboard } from './resources-dashboard.js';
import { storageDashboard } from './storage-dashboard.js';

export const DASHBOARDS = {
  'edge.json': edgeDashboard,
  'builds.json': buildsDashboard,
  'resources.json': resourcesDashboard,
  'storage.json': storageDashboard,
};

export function render(dashboard: object): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, dashboard] of Object.entries(DASHBOARDS)) {
    await writeFile(new URL(`../grafana/dashboards/${file}`, import.meta.url), render(dashboard));
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
