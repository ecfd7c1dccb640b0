/** `failNext`: canned answers for the next N requests matching a method and path (decoded or raw). */
import type { FailMatcher, InjectedResponse } from './types.js';

interface Rule {
  matcher: FailMatcher;
  response: InjectedResponse;
  remaining: number;
}

export class Faults {
  readonly #rules: Rule[] = [];

  add(matcher: FailMatcher, response: InjectedResponse, times: number): void {
    if (!Number.isInteger(times) || times < 1) {
      throw new Error(`failNext: times must be a positive integer, got ${times}`);
    }
    this.#rules.push({ matcher, response, remaining: times });
  }

  /** The injected response for this request, consuming one use of the first matching rule. */
  take(method: string, path: string, rawPath: string, serverName?: string): InjectedResponse | undefined {
    const rule = this.#rules.find(
      (r) =>
        (r.matcher.serverName === undefined || r.matcher.serverName === serverName) &&
        matches(r.matcher, method, path, rawPath),
    );
    if (rule === undefined) {
      return undefined;
    }
    rule.remaining--;
    if (rule.remaining === 0) {
      this.#rules.splice(this.#rules.indexOf(rule), 1);
    }
    return rule.response;
  }

  get pending(): number {
    return this.#rules.reduce((n, r) => n + r.remaining, 0);
  }
}

function matches(m: FailMatcher, method: string, path: string, rawPath: string): boolean {
  if (m.method !== undefined && m.method.toUpperCase() !== method) {
    return false;
  }
  if (typeof m.path === 'string') {
    return m.path === path || m.path === rawPath;
  }
  m.path.lastIndex = 0;
  const hit = m.path.test(path);
  m.path.lastIndex = 0;
  return hit || m.path.test(rawPath);
}
