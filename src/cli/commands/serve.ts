/**
 * `tessera serve`: run the gateway itself, exactly as `npm start` does (config from
 * TESSERA_CONFIG and the environment). The server code is imported only here, and lazily, so
 * every other command starts without loading Koa, Redis or the identity sources.
 */
import type { Command } from '../context.js';
import { CliError } from '../errors.js';

const serve: Command = {
  spec: {
    path: ['serve'],
    summary: 'Run the gateway (configured by TESSERA_CONFIG, PORT, REDIS_URL, TESSERA_ISSUER, TESSERA_ADMIN_PASSWORD, LOG_LEVEL, LOG_FORMAT).',
    options: { config: { type: 'string', value: 'FILE', help: 'configuration file (default: $TESSERA_CONFIG)' } },
  },
  async run(ctx) {
    const { ConfigError, loadConfig } = await import('../../config/load.js');
    const { startGateway } = await import('../../server.js');
    const { createLogger } = await import('../../observability/logger.js');
    const { runUntilSignalled } = await import('../../observability/shutdown.js');
    const env: Record<string, string | undefined> = { ...ctx.env, TESSERA_CONFIG: ctx.args.string('config') ?? ctx.env.TESSERA_CONFIG };
    let config;
    try {
      config = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, 2);
      throw err;
    }
    const { UnsafeStore } = await import('../../store/monitor.js');
    const logger = createLogger(config.log);
    const gateway = await startGateway(config, { adminPassword: env.TESSERA_ADMIN_PASSWORD || undefined, logger }).catch((err: unknown) => {
      // A store that may lose data is a configuration problem: exit code 2, like a bad config.
      throw err instanceof UnsafeStore ? new CliError(err.message, 2) : err;
    });
    const code = await runUntilSignalled(gateway, logger);
    if (code !== 0) throw new CliError('stopped before requests in flight finished', code);
  },
};

export const serveCommands: Command[] = [serve];
