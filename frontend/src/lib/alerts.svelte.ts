// The dashboard's alert state: loaded from the API, kept current by the
// live link's "alert" events, reloaded on every snapshot (a resynced
// session may have missed events), acknowledged through the API.

import type { Result } from './api';
import { alertEventsIn, firingCount, isSnapshotFrame, mergeAlert, type Alert, type AlertList } from './alerts';

/** The two calls the strip makes (the real Api has them). */
export interface AlertsApi {
  alerts(): Promise<Result<AlertList>>;
  ackAlert(id: number): Promise<Result<Alert>>;
}

export class AlertsModel {
  list = $state.raw<Alert[]>([]);
  error = $state('');
  acking = $state<number | null>(null);
  readonly firing = $derived(firingCount(this.list));

  constructor(private readonly api: AlertsApi) {}

  async load(): Promise<void> {
    const r = await this.api.alerts();
    if (r.ok) {
      this.list = r.data.alerts;
      this.error = '';
    } else {
      this.error = r.message;
    }
  }

  /** Feed every raw /admin-ws frame; only alert and snapshot frames do anything. */
  onFrame(data: string): void {
    if (isSnapshotFrame(data)) {
      void this.load();
      return;
    }
    const evs = alertEventsIn(data);
    if (evs.length === 0) return;
    let list = this.list;
    for (const ev of evs) list = mergeAlert(list, ev);
    this.list = list;
  }

  async ack(id: number): Promise<void> {
    this.acking = id;
    const r = await this.api.ackAlert(id);
    this.acking = null;
    if (r.ok) {
      this.list = mergeAlert(this.list, r.data);
      this.error = '';
    } else {
      this.error = r.message;
    }
  }
}
