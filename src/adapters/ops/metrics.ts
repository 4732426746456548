// Prometheus metrics, one registry per gateway instance (tests start several in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  documentsStored: Counter<'form'>;
  tlsRejected: Counter<'reason'>;
  /** connections closed by the connection limits: `evicted` (an unfinished handshake made room) or `refused` */
  connectionsLimited: Counter<'reason' | 'scope'>;
  /** open connections by stage, read at each scrape from whoever tracks them (adapters/http/connection-guard.ts) */
  connectionsOpen: Gauge<'state'>;
  countConnectionsWith(source: () => { handshake: number; established: number }): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  let connections: (() => { handshake: number; established: number }) | undefined;
  collectDefaultMetrics({ register: registry, prefix: 'kaigo_gateway_' });
  return {
    registry,
    requests: new Counter({
      name: 'kaigo_gateway_http_requests_total',
      help: 'HTTP requests by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'kaigo_gateway_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    documentsStored: new Counter({
      name: 'kaigo_gateway_documents_stored_total',
      help: 'Care-form documents stored, by form',
      labelNames: ['form'],
      registers: [registry],
    }),
    tlsRejected: new Counter({
      name: 'kaigo_gateway_tls_rejected_total',
      help: 'TLS handshakes refused (no/untrusted client certificate, old protocol, timeout)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    connectionsLimited: new Counter({
      name: 'kaigo_gateway_connections_limited_total',
      help: 'Connections closed by the connection limits (evicted: an unfinished handshake made room for a new one)',
      labelNames: ['reason', 'scope'],
      registers: [registry],
    }),
    connectionsOpen: new Gauge({
      name: 'kaigo_gateway_connections_open',
      help: 'Open connections: handshake (TCP accepted, TLS not finished) or established',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const c = connections?.();
        if (!c) return;
        this.set({ state: 'handshake' }, c.handshake);
        this.set({ state: 'established' }, c.established);
      },
    }),
    countConnectionsWith(source) {
      connections = source;
    },
  };
}
