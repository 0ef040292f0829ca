import { createApp } from './app.js';

/** The worker entry: wrangler.toml's `main`, and what local-edge bundles for workerd. */
const app = createApp();

export default { fetch: app.fetch };
