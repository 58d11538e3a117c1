// State of the Tokens view: the list, the create form, the token shown once,
// and revocation behind a confirmation. Dependencies are injected so tests
// drive it without a browser or a server.

import type { Confirmer } from './actions.svelte';
import type { Result } from './api';
import { ShownOnce, type ClipboardLike } from './shownOnce.svelte';
import { buildCreateBody, fieldOfError, revokeQuestion, type ApiToken, type CreatedToken, type CreateTokenBody, type FormField, type TokenForm, type TokenList } from './tokens';

export interface TokensApi {
  listTokens(): Promise<Result<TokenList>>;
  createToken(body: CreateTokenBody): Promise<Result<CreatedToken>>;
  revokeToken(id: number): Promise<Result<{ ok: boolean; id: number }>>;
}

export type { ClipboardLike, CopyState } from './shownOnce.svelte';

export class TokensModel {
  tokens = $state<ApiToken[]>([]);
  loading = $state(false);
  loaded = $state(false);
  loadError = $state('');

  form = $state<TokenForm>({ user: '', name: '', expiry: '90d', date: '' });
  formError = $state<{ field: FormField | null; message: string } | null>(null);
  creating = $state(false);

  /** The new token, shown once; cleared by dismiss() and never kept anywhere else. */
  readonly shown: ShownOnce<CreatedToken>;

  revoking = $state<number | null>(null);
  notice = $state<{ ok: boolean; message: string } | null>(null);

  constructor(
    private readonly api: TokensApi,
    private readonly confirmer: Confirmer,
    me: string,
    clipboard: ClipboardLike | null = null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.form.user = me;
    this.shown = new ShownOnce(clipboard, (t) => t.token);
  }

  get created(): CreatedToken | null {
    return this.shown.value;
  }

  get copy() {
    return this.shown.copy;
  }

  async load(): Promise<void> {
    this.loading = true;
    const r = await this.api.listTokens();
    this.loading = false;
    if (r.ok) {
      this.tokens = r.data.tokens ?? [];
      this.loaded = true;
      this.loadError = '';
    } else {
      this.loadError = r.message;
    }
  }

  async create(): Promise<boolean> {
    if (this.creating) return false;
    const b = buildCreateBody(this.form, this.now());
    if (!b.ok) {
      this.formError = { field: b.field, message: b.message };
      return false;
    }
    this.formError = null;
    this.notice = null;
    this.creating = true;
    const r = await this.api.createToken(b.body);
    this.creating = false;
    if (!r.ok) {
      this.formError = { field: fieldOfError(r.error), message: r.message };
      return false;
    }
    this.shown.show(r.data);
    this.form.name = '';
    await this.load();
    return true;
  }

  copyToken(): Promise<void> {
    return this.shown.copySecret();
  }

  /** Forgets the plaintext: after this nobody can see it again. */
  dismiss(): void {
    this.shown.dismiss();
  }

  async revoke(t: ApiToken): Promise<void> {
    if (this.revoking !== null) return;
    if (!(await this.confirmer.ask(revokeQuestion(t)))) return;
    this.revoking = t.id;
    this.notice = null;
    const r = await this.api.revokeToken(t.id);
    this.revoking = null;
    this.notice = r.ok ? { ok: true, message: `Revoked ${t.prefix}… (${t.name}).` } : { ok: false, message: r.message };
    if (r.ok) await this.load();
  }
}
