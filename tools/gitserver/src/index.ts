// Real git servers on loopback and repositories to serve, for tests, the demo and the benchmarks (dev tooling: no
// controller imports this package outside its tests).
export { freePort } from "@capstan/cluster/process";
export { type GitHttpServer, type GitHttpServerOptions, startGitHttpServer } from "./git-http-server.js";
export { createGitShim, type GitShim } from "./git-shim.js";
export {
  type ChartSpec,
  type HelmRepoServer,
  type HelmRepoServerOptions,
  type RawEntry,
  startHelmRepoServer,
} from "./helm-repo.js";
export { createKeyStore, type KeyStore, type PgpKey, type SshKeyPair } from "./keys.js";
export { startTestProxy, type TestProxy, type TestProxyOptions } from "./proxy.js";
export {
  findBinary,
  type HelmPushOptions,
  helmPush,
  type OrasFile,
  type OrasPushOptions,
  orasPush,
  type RegistryOptions,
  registryCredentials,
  startRegistry,
  type TestRegistry,
} from "./registry.js";
export { createTestRepo, disposeTestRepo, type Signer, type TestRepo } from "./repo.js";
export { startTestSocksProxy, type TestSocksProxy } from "./socks.js";
export { type SshServer, sshdAvailable, sshdBinary, startSshServer } from "./sshd.js";
export { createTestPki, type TestPki } from "./tls.js";
export { startTokenServer, type TokenRequest, type TokenServer, type TokenServerOptions } from "./token-server.js";
