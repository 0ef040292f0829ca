export { edgeMetricsRoutes, type EdgeMetricsRoutesOptions } from './edge-metrics-routes.js';
export { createEdgeMetrics, type EdgeMetrics } from './edge-metrics-collectors.js';
