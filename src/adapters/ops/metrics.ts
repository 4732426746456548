// Prometheus metrics, one registry per gateway instance (tests start several in one process).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  documentsStored: Counter<'form'>;
  tlsRejected: Counter<'reason'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
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
      help: 'TLS handshakes refused (no/untrusted client certificate, old protocol)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
