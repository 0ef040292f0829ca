// The standalone control plane: parse config, connect, listen. Nothing else lives here.
import { ConfigError } from '@deploysphere/contracts';
import Fastify from 'fastify';
import { app, BODY_LIMIT_BYTES } from './app.js';
import { loadServerConfig, type ServerConfig } from './config.js';
import { createContext } from './create-context.js';
import { CloudflareKvRouteStore } from './hosts/cloudflare-kv-route-store.js';

let settings: ServerConfig;
try {
  settings = loadServerConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}

const { controlPlane: config, cloudflareKv } = settings;
const ctx = await createContext(config, new CloudflareKvRouteStore(cloudflareKv));
const fastify = Fastify({ logger: { level: config.logLevel }, bodyLimit: BODY_LIMIT_BYTES });
await fastify.register(app, ctx);
fastify.addHook('onClose', () => ctx.close());
await fastify.listen({ host: config.host, port: config.port });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void fastify.close().then(() => process.exit(0));
  });
}
