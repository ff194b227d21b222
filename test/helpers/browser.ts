/**
 * A minimal browser for protocol tests: real HTTP with a cookie jar, manual redirects, and form
 * extraction from the server-rendered pages. (The real-browser tests use Chromium.)
 */
export interface Page {
  status: number;
  url: string;
  location?: string;
  text: string;
}

export class CookieBrowser {
  private readonly jar = new Map<string, string>();

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, url: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    this.remember(res);
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, url, location: location && new URL(location, url).toString(), text: await res.text() };
  }

  get(url: string): Promise<Page> {
    return this.request('GET', url);
  }

  post(url: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Page> {
    return this.request('POST', url, form, headers);
  }

  /** Follows redirects while they stay on `origin`; returns the first page off it or not a redirect. */
  async follow(page: Page, origin: string): Promise<Page> {
    let current = page;
    for (let hops = 0; current.location && current.status >= 300 && current.status < 400 && hops < 10; hops++) {
      if (!current.location.startsWith(origin)) return current;
      current = await this.get(current.location);
    }
    return current;
  }

  clear(): void {
    this.jar.clear();
  }
}

/** The hidden and visible inputs of the form whose id or action matches. */
export function formFields(html: string, match: string | RegExp): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const form = forms.find(([, attrs]) => (typeof match === 'string' ? attrs!.includes(match) : match.test(attrs!)));
  if (!form) throw new Error(`no form matching ${match} in:\n${html.slice(0, 2000)}`);
  const action = /action="([^"]*)"/.exec(form[1]!)?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const [, attrs] of form[2]!.matchAll(/<input\b([^>]*)>/g)) {
    const name = /name="([^"]*)"/.exec(attrs!)?.[1];
    const value = /value="([^"]*)"/.exec(attrs!)?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  }
  return { action: action.replace(/&amp;/g, '&'), fields };
}
