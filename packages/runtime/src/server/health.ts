import type { Route } from "./http.js";

/** A named check: returns nothing when fine, or throws / returns a string saying what is wrong. */
export type Check = () => string | undefined | Promise<string | undefined>;

/**
 * /healthz and /readyz in the style of controller-runtime's healthz handler: 200 "ok" when every check passes,
 * 500 listing the failing ones otherwise; `?verbose` lists every check.
 */
export class HealthChecks {
  readonly #liveness = new Map<string, Check>([["ping", () => undefined]]);
  readonly #readiness = new Map<string, Check>([["ping", () => undefined]]);

  addLivenessCheck(name: string, check: Check): void {
    this.#liveness.set(name, check);
  }

  addReadinessCheck(name: string, check: Check): void {
    this.#readiness.set(name, check);
  }

  routes(): Record<string, Route> {
    return { "/healthz": this.#handler(this.#liveness), "/readyz": this.#handler(this.#readiness) };
  }

  #handler(checks: Map<string, Check>): Route {
    return async (req, res) => {
      const verbose = new URL(req.url ?? "/", "http://localhost").searchParams.has("verbose");
      const lines: string[] = [];
      let ok = true;
      for (const [name, check] of checks) {
        let problem: string | undefined;
        try {
          problem = await check();
        } catch (err) {
          problem = (err as Error).message;
        }
        if (problem !== undefined) ok = false;
        if (problem !== undefined || verbose)
          lines.push(problem === undefined ? `[+]${name} ok` : `[-]${name} failed: ${problem}`);
      }
      res.writeHead(ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8" });
      res.end(ok && !verbose ? "ok" : `${lines.join("\n")}\n${ok ? "healthz check passed" : "healthz check failed"}\n`);
    };
  }
}
