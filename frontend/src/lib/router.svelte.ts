// History-API router: the current location as reactive state.

import { matchRoute, type Route } from './routes';

export class Router {
  pathname = $state('/');
  search = $state('');
  readonly route: Route = $derived(matchRoute(this.pathname, this.search));

  private readonly onPop = () => this.sync();

  constructor(private readonly win: Window = window) {
    this.sync();
    win.addEventListener('popstate', this.onPop);
  }

  get current(): string {
    return this.pathname + this.search;
  }

  navigate(to: string, opts: { replace?: boolean } = {}): void {
    if (to === this.current) return;
    if (opts.replace) this.win.history.replaceState(null, '', to);
    else this.win.history.pushState(null, '', to);
    this.sync();
  }

  destroy(): void {
    this.win.removeEventListener('popstate', this.onPop);
  }

  private sync(): void {
    this.pathname = this.win.location.pathname;
    this.search = this.win.location.search;
  }
}
