// Secrets must never reach logs, conditions or Events. Every message built from a git or ssh process output passes
// through scrub() with the session's secret values before it leaves this package.

const userinfo = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi;
const authHeader = /(authorization:\s*(?:basic|bearer|token)\s+)\S+/gi;

/** Removes URL userinfo, Authorization header values and each given secret value (and its base64 form). */
export function scrub(message: string, secrets: readonly string[] = []): string {
  let out = message.replace(userinfo, "$1").replace(authHeader, "$1***");
  const values = secrets
    .flatMap((s) => [s, Buffer.from(s).toString("base64"), encodeURIComponent(s)])
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length);
  for (const value of new Set(values)) {
    out = out.split(value).join("***");
  }
  return out;
}
