// Turns a failed git process into a GitError a user can act on: the kind (and so Flux's reason) comes from git's and
// ssh's stderr, the message keeps git's own words minus anything secret.
import { GitError, type GitErrorKind } from "../errors.js";
import { scrub } from "../scrub.js";

const rules: [GitErrorKind, RegExp][] = [
  ["hostKey", /Host key verification failed|No \S+ host key is known|REMOTE HOST IDENTIFICATION HAS CHANGED/i],
  ["credentials", /incorrect passphrase|Load key .*: (invalid format|error in libcrypto)|bad permissions/i],
  [
    "auth",
    /Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|Permission denied \(|Invalid username or password/i,
  ],
  [
    "notFound",
    /Repository not found|repository '[^']*' not found|returned error: 404|does not appear to be a git repository|couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i,
  ],
  [
    "unreachable",
    /Could not resolve host|Could not resolve hostname|Connection refused|Failed to connect|Connection timed out|SSL certificate problem|server certificate verification failed|SSL_ERROR|gnutls_handshake|Network is unreachable|No route to host|Connection closed by|Connection reset/i,
  ],
];

export function classifyGitFailure(stderr: string): GitErrorKind {
  for (const [kind, re] of rules) if (re.test(stderr)) return kind;
  return "other";
}

const hints: Partial<Record<GitErrorKind, string>> = {
  auth: "check the credentials in the Secret named by spec.secretRef",
  hostKey: "the SSH host key is not in the Secret's 'known_hosts'; add the server's key (ssh-keyscan)",
  credentials: "the Secret's 'identity' key cannot be used: check the key and its 'password'",
  notFound: "check spec.url and spec.ref",
  unreachable: "check the host is reachable from the controller (DNS, network, TLS trust via 'ca.crt')",
};

/** The lines of stderr worth showing: git's fatal/error lines and ssh's diagnostics, not progress noise. */
export function relevantStderr(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .filter((l) => !/^(hint:|Cloning into|remote: (Counting|Compressing|Enumerating|Total))/.test(l));
  return lines.slice(-4).join("; ");
}

export function gitFailure(
  operation: string,
  stderr: string,
  secrets: readonly string[],
  options: { timedOut?: boolean; timeoutMs?: number; cause?: unknown } = {},
): GitError {
  if (options.timedOut) {
    return new GitError("timeout", `${operation}: timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)}s`);
  }
  const kind = classifyGitFailure(stderr);
  const detail = scrub(relevantStderr(stderr), secrets) || "git exited with an error";
  const hint = hints[kind];
  const message = `${operation}: ${detail}${hint ? ` (${hint})` : ""}`;
  // The cause is a fresh error with the scrubbed text only: the process error itself carries argv and env.
  return new GitError(kind, message, { cause: new Error(detail) });
}
