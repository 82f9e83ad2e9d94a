import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from './hub';

/** The realtime layer's Prometheus metrics, on a registry of its own (tests build several apps per process). */
export class RealtimeMetrics {
  readonly registry = new Registry();
  readonly pushed: Counter<'protocol'>;
  readonly pushLatency: Histogram<'event'>;
  readonly busLag: Histogram;
  readonly busConnected: Gauge;
  readonly closed: Counter<'code'>;

  constructor(hub: Hub, opts: { defaultMetrics?: boolean; busHealthy?: () => boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    new Gauge({
      name: 'herald_ws_open_sockets',
      help: 'Open WebSocket connections in this process.',
      registers,
      collect() {
        this.set(hub.size);
      },
    });
    this.pushed = new Counter({
      name: 'herald_ws_messages_pushed_total',
      help: 'Frames pushed to WebSocket clients (snapshots, notifications, counts, read state).',
      labelNames: ['protocol'],
      registers,
    });
    this.pushLatency = new Histogram({
      name: 'herald_ws_push_latency_seconds',
      help: 'From the event being published (after commit) to its frames being handed to the sockets.',
      labelNames: ['event'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.busLag = new Histogram({
      name: 'herald_bus_lag_seconds',
      help: 'From the event being published to this process receiving it from the bus.',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    const busHealthy = opts.busHealthy;
    this.busConnected = new Gauge({
      name: 'herald_bus_connected',
      help: '1 when this process is connected to the cross-process bus.',
      registers,
      collect() {
        this.set(busHealthy?.() ? 1 : 0);
      },
    });
    this.closed = new Counter({
      name: 'herald_ws_closed_by_server_total',
      help: 'Connections the server closed, by close code.',
      labelNames: ['code'],
      registers,
    });
  }
}
