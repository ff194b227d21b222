/**
 * What every SAML message passes before samlify reads it: no DTD, and validity against the SAML
 * 2.0 XML schemas (protocol, assertion, xmldsig, xenc).
 *
 * The schema check is libxml2's xmllint compiled to JavaScript, from `samlify-validator-js`: pure
 * JS, no Java. It is the build `@authenio/samlify-node-xmllint` ships minus two lines that make
 * that package unusable in a server: every call left an `uncaughtException` listener and a
 * `process.stdout.once('drain', () => process.exit())` behind, each holding the 16 MiB heap of
 * that call (memory grows without bound, and the first stdout drain exits the gateway).
 *
 * Even so, the first call compiles 4.7 MB of asm.js (seconds of CPU) and every call holds the
 * CPU for ~20-40 ms, so it runs in a worker thread, started in the background when a SAML source
 * loads, and the gateway's event loop (introspection is latency-critical) never waits on it.
 * The worker uses ~150 MB once warm; it is shared by every SAML source of the process, as
 * samlify's validator is process-wide.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import samlify from 'samlify';
import { Forbidden, TemporarilyUnavailable } from '../../errors.js';

/** A minimal valid message, validated at start-up so the worker compiles before the first sign-in. */
const WARM_UP = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_w" Version="2.0" IssueInstant="2000-01-01T00:00:00Z"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const validator = require(workerData.validatorPath);
parentPort.on('message', ({ id, xml }) => {
  validator.validate(xml).then(() => parentPort.postMessage({ id, valid: true }), () => parentPort.postMessage({ id, valid: false }));
});`;

/** The first validation compiles xmllint: on a busy 2-core machine that has taken 6 s. */
const TIMEOUT_MS = 20_000;

/** Thrown (to samlify, which passes it on) for a message the schemas reject. */
export class SchemaInvalid extends Forbidden {
  constructor() {
    super('the message is not valid SAML 2.0 (XML schema check failed)');
  }
}

/**
 * Refuses DTDs before any parser sees the text: entity expansion (billion laughs) and external
 * entities (XXE) need one, and SAML never does (saml-core §1.3; SAML security considerations
 * §6.3.1). xmllint would accept and expand an internal subset, so this cannot be left to it.
 */
export function rejectDtd(xml: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new Forbidden('the message carries a DOCTYPE or entity declaration, which SAML never needs');
}

interface Pending {
  resolve: (valid: boolean) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class XmlSchemaWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  private start(): Worker {
    const validatorPath = createRequire(import.meta.url).resolve('samlify-validator-js');
    // stdout/stderr: true keeps xmllint's own printing out of the gateway's log.
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { validatorPath }, stdout: true, stderr: true });
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    worker.on('message', ({ id, valid }: { id: number; valid: boolean }) => {
      const entry = this.pending.get(id);
      if (!entry) return;
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.resolve(valid);
    });
    const fail = () => {
      if (this.worker === worker) this.restart(new TemporarilyUnavailable('the SAML schema validator stopped; try again'));
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  /** Drops the worker and fails what waits on it; the next validation starts a new one. */
  private restart(err: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
    this.pending.clear();
    void worker?.terminate();
  }

  isValid(xml: string): Promise<boolean> {
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    return new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => this.restart(new TemporarilyUnavailable('the SAML schema check timed out; try again')), TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, xml });
    });
  }

  warmUp(): void {
    this.isValid(WARM_UP).catch(() => undefined);
  }
}

const schemaWorker = new XmlSchemaWorker();

/** Resolves for a schema-valid SAML message; rejects with `SchemaInvalid` otherwise. */
export async function validateSchema(xml: string): Promise<string> {
  if (!(await schemaWorker.isValid(xml))) throw new SchemaInvalid();
  return 'SUCCESS_VALIDATE_XML';
}

samlify.setSchemaValidator({ validate: validateSchema });

/** Starts the worker and compiles xmllint in the background. */
export function warmUpSchemaValidator(): void {
  schemaWorker.warmUp();
}
