// The demo's OCI registry: the real CNCF distribution registry (the pinned build in the local toolchain) on loopback,
// plain HTTP and no auth (the demo is this machine's only), so a person can push manifests or charts the way CI
// does and point an OCIRepository (or an OCI HelmRepository) at it.
import { ensureBinaries } from "@capstan/cluster";
import { startRegistry, type TestRegistry } from "@capstan/gitserver";

export async function startDemoRegistry(): Promise<TestRegistry> {
  const { path } = await ensureBinaries();
  return startRegistry({ binPath: path, tls: false, auth: false });
}
