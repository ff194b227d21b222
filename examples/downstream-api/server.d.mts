import type Koa from 'koa';

export interface DownstreamOptions {
  tesseraUrl: string;
  clientId: string;
  clientSecret: string;
  cacheTtlMs?: number;
  webhookSecret?: string;
}

export function createDownstream(options: DownstreamOptions): {
  app: Koa;
  cache: Map<string, { answer: Record<string, unknown>; until: number }>;
  stats: { introspections: number; dropped: number };
};
