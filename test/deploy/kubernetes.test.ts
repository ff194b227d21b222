/**
 * deploy/kubernetes/ holds to the Kubernetes API's own JSON schemas: kubernetes-models ships them
 * inside the npm package (validated with ajv, no network), so a misspelt kind, a string where a
 * port number belongs or a missing selector fails here rather than at `kubectl apply`. Those
 * schemas allow properties they do not know, so a misspelt field name is not caught here; the
 * tests below check by name the fields the gateway depends on (probes, selectors, mounts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import * as apps from 'kubernetes-models/apps/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { loadConfigText } from './config-text.js';

const DIR = new URL('../../deploy/kubernetes/', import.meta.url);
const files = readdirSync(DIR).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: any };
const manifests: Manifest[] = files.flatMap((name) => parseAllDocuments(readFileSync(new URL(name, DIR), 'utf8')).map((doc) => doc.toJS()));
const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name)!;

const MODELS: Record<string, Record<string, any>> = { v1: core, 'apps/v1': apps, 'policy/v1': policy };

/** Validates with the model class of its apiVersion and kind (`apps/v1` Deployment, …). */
async function validate(manifest: Manifest): Promise<void> {
  const Model = MODELS[manifest.apiVersion]?.[manifest.kind];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  new Model(manifest).validate();
}

describe('deploy/kubernetes', () => {
  it('every manifest validates against the Kubernetes schema', async () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Secret', 'Service', 'Service', 'StatefulSet']);
    for (const manifest of manifests) await expect(validate(manifest), `${manifest.kind} ${manifest.metadata.name}`).resolves.toBeUndefined();
  });

  it('the validator does catch a broken manifest', async () => {
    const broken = structuredClone(find('Deployment', 'tessera'));
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    await expect(validate(broken)).rejects.toThrow(/containerPort must be integer/);
    await expect(validate({ ...broken, kind: 'Deploymant' })).rejects.toThrow(/no schema/);
  });

  it('kustomization.yaml lists every manifest', () => {
    const kustomization = parseAllDocuments(readFileSync(new URL('kustomization.yaml', DIR), 'utf8'))[0]!.toJS();
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  it('the gateway Deployment probes /healthz and /readyz, requests resources, and rolls without dropping below its replicas', () => {
    const deployment = find('Deployment', 'tessera');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(find('PodDisruptionBudget', 'tessera').spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(find('Service', 'tessera').spec.selector).toEqual(deployment.spec.selector.matchLabels);
    // The config file is mounted where TESSERA_CONFIG points, from the ConfigMap that holds it.
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');
    const configPath = container.env.find((e: { name: string }) => e.name === 'TESSERA_CONFIG').value;
    expect(configPath).toBe(`${mount.mountPath}/tessera.yaml`);
    const volume = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config');
    expect(volume.configMap.name).toBe('tessera-config');
    expect(container.envFrom[0].secretRef.name).toBe(find('Secret', 'tessera-secrets').metadata.name);
  });

  it("the ConfigMap's tessera.yaml is a valid gateway configuration with the Secret's values", () => {
    const secret = find('Secret', 'tessera-secrets').stringData;
    const config = loadConfigText(find('ConfigMap', 'tessera-config').data['tessera.yaml'], secret);
    expect(config.store.redisUrl).toBe(secret.REDIS_URL);
    expect(config.server.trustProxy).toBe(true);
    expect(config.clients.map((c) => c.id)).toEqual(['models-api']);
  });

  it('Redis keeps an append-only file and never evicts keys', () => {
    const args: string[] = find('StatefulSet', 'tessera-redis').spec.template.spec.containers[0].args;
    const option = (name: string) => args[args.indexOf(name) + 1];
    expect([option('--appendonly'), option('--appendfsync'), option('--maxmemory-policy')]).toEqual(['yes', 'everysec', 'noeviction']);
  });
});
