// Paging through the audit log: the first page for a set of filters, then
// "Older" appends the next page. A response for filters that changed since
// it was asked is dropped, so a slow page never lands under new filters.

import type { Result } from './api';
import { AUDIT_PAGE, auditPath, emptyFilters, type AuditFilters } from './audit';
import type { AuditEntry, AuditPage } from './types';

export interface AuditSource {
  audit(path: string): Promise<Result<AuditPage>>;
}

export class AuditList {
  entries = $state.raw<AuditEntry[]>([]);
  nextBefore = $state<number | null>(null);
  loading = $state(false);
  error = $state('');
  loaded = $state(false);
  private filters: AuditFilters = emptyFilters();
  private seq = 0;

  constructor(
    private readonly src: AuditSource,
    private readonly limit = AUDIT_PAGE,
  ) {}

  get hasOlder(): boolean {
    return this.nextBefore !== null;
  }

  /** Loads the newest page for f, replacing what is shown. */
  load(f: AuditFilters): Promise<void> {
    this.filters = { ...f };
    return this.fetch(null, false);
  }

  /** Appends the next older page, if any. */
  older(): Promise<void> {
    if (this.nextBefore === null || this.loading) return Promise.resolve();
    return this.fetch(this.nextBefore, true);
  }

  private async fetch(before: number | null, append: boolean): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    this.error = '';
    const r = await this.src.audit(auditPath(this.filters, before, this.limit));
    if (seq !== this.seq) return;
    this.loading = false;
    if (!r.ok) {
      this.error = r.message;
      return;
    }
    const page = r.data.entries ?? [];
    this.entries = append ? [...this.entries, ...page] : page;
    this.nextBefore = r.data.next_before ?? null;
    this.loaded = true;
  }
}
