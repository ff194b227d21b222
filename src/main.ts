/**
 * `npm start`: run the gateway from TESSERA_CONFIG / environment. A bad config exits 2 with every
 * problem listed.
 */
import { ConfigError, loadConfig } from './config/load.js';
import { startGateway } from './server.js';
import { UnsafeStore } from './store/monitor.js';

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
  // A store that may lose data is a configuration problem, like an invalid config file.
  process.exit(err instanceof UnsafeStore ? 2 : 1);
});
