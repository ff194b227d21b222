/** `tessera --version`: the package's version, as the gateway reports it too. */
export { packageVersion as cliVersion } from '../version.js';
