/**
 * `npm start`: run the gateway from TESSERA_CONFIG / environment. A bad config exits 2 with every
 * problem listed; SIGTERM/SIGINT stop it gracefully and exit 0.
 */
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger } from './observability/logger.js';
import { runUntilSignalled } from './observability/shutdown.js';
import { startGateway } from './server.js';
import { UnsafeStore } from './store/monitor.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Before the configured logger exists: a JSON line a log shipper can still read.
      createLogger({ level: 'info', format: process.env.LOG_FORMAT === 'pretty' ? 'pretty' : undefined }).fatal({ problems: err.problems }, `tessera: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.log);
  let gateway;
  try {
    gateway = await startGateway(config, { adminPassword: process.env.TESSERA_ADMIN_PASSWORD || undefined, logger });
  } catch (err) {
    const message = `tessera: failed to start: ${err instanceof Error ? err.message : String(err)}`;
    logger.fatal({ err }, message);
    // Also plainly on stderr: the asynchronous log line may not be flushed before the exit.
    console.error(message);
    // A store that may lose data is a configuration problem, like an invalid config file.
    process.exit(err instanceof UnsafeStore ? 2 : 1);
  }
  // From process start, so module loading and the store connection count: what a restart costs.
  logger.info({ startupMs: Math.round(process.uptime() * 1000) }, `Tessera started in ${Math.round(process.uptime() * 1000)} ms`);
  process.exit(await runUntilSignalled(gateway, logger));
}

main().catch((err) => {
  console.error(`tessera: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  // A store that may lose data is a configuration problem, like an invalid config file.
  process.exit(err instanceof UnsafeStore ? 2 : 1);
});
