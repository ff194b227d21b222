/**
 * `npm start`: run the gateway from TESSERA_CONFIG / environment. A bad config exits 2 with every
 * problem listed.
 */
import { ConfigError, loadConfig } from './config/load.js';
import { startGateway } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tessera: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const gateway = await startGateway(config, { adminPassword: process.env.TESSERA_ADMIN_PASSWORD || undefined });
  // From process start, so module loading and the store connection count: what a restart costs.
  console.log(`Tessera started in ${Math.round(process.uptime() * 1000)} ms`);
  const stop = async (signal: string) => {
    console.log(`Received ${signal}, shutting down`);
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(`tessera: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
