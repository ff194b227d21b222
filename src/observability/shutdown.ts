/**
 * Running a gateway until SIGTERM/SIGINT, for `npm start` and `tessera serve`: the first signal
 * starts a graceful stop (see `RunningGateway.close`) and resolves with the exit code; a second
 * signal during the stop means the operator wants out now.
 */
import type { RunningGateway } from '../server.js';
import type { Logger } from './logger.js';

export function runUntilSignalled(gateway: RunningGateway, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting for requests in flight');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal, graceSeconds: gateway.services.config.server.shutdownGraceSeconds }, `received ${signal}, shutting down`);
      gateway.close().then(
        () => {
          logger.info('shutdown complete');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
