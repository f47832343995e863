// A git session: the environment and private temp files through which credentials reach git and ssh. Nothing secret
// ever goes into a command-line argument or a URL (both can show up in process listings and error messages): basic
// auth and SSH passphrases go through askpass scripts that read env vars, the bearer token and proxy through
// GIT_CONFIG_* env entries, keys and certificates through 0600 files in a 0700 directory removed by dispose().
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ProxyTarget, proxyUrlWithLogin } from "@capstan/runtime";
import type { GitAuth, ProxyConfig } from "./auth.js";
import { secretValues } from "./auth.js";

export interface GitSession {
  /** The full environment for git processes of this session (does not inherit the controller's). */
  env: Record<string, string>;
  /** Values to scrub from every message derived from this session's process output. */
  secrets: string[];
  dispose(): Promise<void>;
}

const askpassScript = `#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$CAPSTAN_GIT_USERNAME" ;;
  *) printf '%s\\n' "$CAPSTAN_GIT_PASSWORD" ;;
esac
`;

const sshAskpassScript = `#!/bin/sh
printf '%s\\n' "$CAPSTAN_SSH_PASSPHRASE"
`;

/** Quotes a path for GIT_SSH_COMMAND, which git runs through the shell. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** (Capstan) ssh's ProxyCommand for a SOCKS5 proxy: socks-connect beside this module (.ts in tests, .js built). */
const socksConnect = fileURLToPath(
  new URL(`./socks-connect${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** ssh's option: the ProxyCommand (one GIT_SSH_COMMAND word; ssh runs the inner words through sh). */
const socksProxyCommand = shq(`ProxyCommand=${shq(process.execPath)} ${shq(socksConnect)} %h %p`);

export async function openSession(
  auth: GitAuth,
  proxy?: ProxyConfig,
  baseEnv: NodeJS.ProcessEnv = process.env,
  /** SSH only: the SOCKS5 proxy (ALL_PROXY) ssh connects through. */
  socks?: ProxyTarget,
): Promise<GitSession> {
  const dir = await mkdtemp(join(tmpdir(), "capstan-git-"));
  await chmod(dir, 0o700);
  const write = async (name: string, content: string | Buffer, mode = 0o600) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode });
    await chmod(path, mode);
    return path;
  };
  const config: [string, string][] = [
    ["credential.helper", ""],
    ["core.askPass", ""],
    ["protocol.version", "2"],
    ["init.defaultBranch", "master"],
    ["advice.detachedHead", "false"],
    ["gc.auto", "0"],
  ];
  const env: Record<string, string> = {
    PATH: baseEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: dir,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GNUPGHOME: join(dir, "gnupg"),
  };
  try {
    if (auth.transport === "ssh") {
      const sshArgs = [
        "ssh",
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "PasswordAuthentication=no",
        "-o",
        "KbdInteractiveAuthentication=no",
        "-o",
        "ConnectTimeout=30",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `User=${auth.user}`,
      ];
      const knownHosts = await write("known_hosts", auth.knownHosts ?? "");
      sshArgs.push("-o", `UserKnownHostsFile=${shq(knownHosts)}`, "-o", "GlobalKnownHostsFile=/dev/null");
      if (auth.identity) {
        const identity = auth.identity.toString("utf8");
        const key = await write("identity", identity.endsWith("\n") ? identity : `${identity}\n`);
        sshArgs.push("-i", shq(key));
      } else {
        sshArgs.push("-o", "IdentityFile=/dev/null");
      }
      if (auth.identityPassword) {
        env.SSH_ASKPASS = await write("ssh-askpass", sshAskpassScript, 0o700);
        env.SSH_ASKPASS_REQUIRE = "force";
        env.CAPSTAN_SSH_PASSPHRASE = auth.identityPassword;
      } else {
        sshArgs.push("-o", "BatchMode=yes");
      }
      if (socks) {
        sshArgs.push("-o", socksProxyCommand);
        // The proxy's address and login in the env, never in argv (ps shows ProxyCommand's arguments).
        env.CAPSTAN_SOCKS_PROXY = proxyUrlWithLogin(socks);
      }
      env.GIT_SSH_COMMAND = sshArgs.join(" ");
      env.GIT_SSH_VARIANT = "ssh";
    } else {
      if (auth.username) {
        env.GIT_ASKPASS = await write("askpass", askpassScript, 0o700);
        env.CAPSTAN_GIT_USERNAME = auth.username;
        env.CAPSTAN_GIT_PASSWORD = auth.password ?? "";
      }
      if (auth.bearerToken) config.push(["http.extraHeader", `Authorization: Bearer ${auth.bearerToken}`]);
      if (auth.caCert) config.push(["http.sslCAInfo", await write("ca.crt", auth.caCert)]);
      if (auth.tlsCert && auth.tlsKey) {
        config.push(["http.sslCert", await write("tls.crt", auth.tlsCert)]);
        config.push(["http.sslKey", await write("tls.key", auth.tlsKey)]);
      }
    }
    if (proxy) config.push(["http.proxy", proxyUrl(proxy)]);
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error("prepare git credentials", { cause: err });
  }
  return {
    env,
    secrets: [...secretValues(auth, proxy), ...(socks?.password ? [socks.password] : [])],
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

function proxyUrl(proxy: ProxyConfig): string {
  const url = new URL(proxy.address);
  if (proxy.username) url.username = encodeURIComponent(proxy.username);
  if (proxy.password) url.password = encodeURIComponent(proxy.password);
  return url.toString();
}
