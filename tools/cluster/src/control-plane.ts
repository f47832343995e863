import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Binaries, clusterPackageDir, ensureBinaries } from "./binaries.js";
import { adminKubeconfig, generatePki, type Pki } from "./pki.js";
import { freePort, ManagedProcess } from "./processes.js";

export type Component = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

export interface ControlPlaneOptions {
  /**
   * Start kube-controller-manager, kube-scheduler and kwok with one fake node, so that Deployments become Available.
   * Default true.
   */
  workloads?: boolean;
  /**
   * Extra flags of kube-controller-manager, after Capstan's own (a later flag wins), e.g. `--kube-api-qps=100` for a
   * benchmark whose rollouts must not be paced by the controller manager's client. Default none.
   */
  controllerManagerArgs?: readonly string[];
  /** Parent of the control plane's temp dir. Default: the OS temp dir. */
  baseDir?: string;
  /** Progress messages. */
  log?: (message: string) => void;
}

export interface ControlPlane {
  /** Path of the admin kubeconfig (inside the control plane's temp dir). */
  kubeconfig: string;
  /** The kubeconfig's content, to copy elsewhere. */
  kubeconfigYaml: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** The temp dir holding data, certificates and logs; removed by stop(). */
  dir: string;
  binaries: Binaries;
  /** Process ids of every component that runs now. */
  pids(): number[];
  /** Stops one component and starts it again with the same flags; waits until the API answers /readyz again. */
  restart(component: Component): Promise<void>;
  /** etcd's client URL (http://127.0.0.1:<port>). */
  etcdUrl: string;
  /**
   * Compacts etcd up to `revision` (a resourceVersion), as the apiserver itself does every five minutes, so that a
   * watch from an older resourceVersion gets a real 410 Gone. Uses etcd's JSON gateway.
   */
  compactEtcd(revision: string): Promise<void>;
  /** Stops one component (for fault tests); start it again with restart(). */
  kill(component: Component): Promise<void>;
  /** Stops every process group and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The fake node that kwok keeps Ready; untainted, so a plain Deployment lands on it. */
export const fakeNodeName = "kwok-node-0";

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.log ?? (() => undefined);
  const workloads = options.workloads ?? true;
  const binaries = await ensureBinaries();
  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), "capstan-cp-"));
  const processes = new Map<Component, ManagedProcess>();
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Every workload (the apiserver's clients) together, then the apiserver, then etcd: the workloads' graceful waits
    // overlap instead of adding up, and nothing loses its backend while it shuts down.
    const backends: Component[] = ["kube-apiserver", "etcd"];
    await Promise.all([...processes].filter(([c]) => !backends.includes(c)).map(([, p]) => p.stop()));
    for (const c of backends) await processes.get(c)?.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await mkdir(join(dir, "logs"));
    await mkdir(join(dir, "pki"));
    const pki = await generatePki(join(dir, "pki"));
    const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfigYaml = await adminKubeconfig(pki, server);
    const kubeconfig = join(dir, "admin.kubeconfig");
    await writeFile(kubeconfig, kubeconfigYaml, { mode: 0o600 });
    const api = new ApiClient(server, pki);

    const add = (name: Component, command: string, args: string[]) => {
      const p = new ManagedProcess({ name, command, args, logFile: join(dir, "logs", `${name}.log`) });
      processes.set(name, p);
      p.start();
      return p;
    };

    log(`etcd on 127.0.0.1:${etcdPort}`);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    add("etcd", binaries.bin.etcd, [
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);

    log(`kube-apiserver on ${server}`);
    const apiserver = add("kube-apiserver", binaries.bin["kube-apiserver"], [
      "--advertise-address=127.0.0.1",
      // Loopback cannot back the kubernetes Service endpoints; nothing in this cluster needs them.
      "--endpoint-reconciler-type=none",
      "--bind-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "pki")}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--etcd-servers=${etcdUrl}`,
      "--authorization-mode=RBAC",
      "--service-cluster-ip-range=10.0.0.0/24",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      "--allow-privileged=true",
      "--profiling=false",
      "--v=1",
    ]);
    await api.waitReady(apiserver, 90_000);

    if (workloads) {
      const common = [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
      ];
      log("kube-controller-manager, kube-scheduler, kwok");
      add("kube-controller-manager", binaries.bin["kube-controller-manager"], [
        ...common,
        `--secure-port=${await freePort()}`,
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        "--use-service-account-credentials=false",
        "--cluster-name=capstan",
        "--v=1",
        ...(options.controllerManagerArgs ?? []),
      ]);
      add("kube-scheduler", binaries.bin["kube-scheduler"], [...common, `--secure-port=${await freePort()}`, "--v=1"]);
      add("kwok", binaries.bin.kwok, [
        `--kubeconfig=${kubeconfig}`,
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        `--server-address=127.0.0.1:${await freePort()}`,
        "--node-ip=127.0.0.1",
        "--node-lease-duration-seconds=40",
        `--config=${join(clusterPackageDir, "kwok-stages.yaml")}`,
      ]);
      await api.createFakeNode();
      await api.waitNodeReady(fakeNodeName, 60_000, () => processes.get("kwok"));
    }

    const plane: ControlPlane = {
      kubeconfig,
      kubeconfigYaml,
      server,
      dir,
      binaries,
      etcdUrl,
      compactEtcd: async (revision) => {
        const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
          method: "POST",
          body: JSON.stringify({ revision, physical: true }),
        });
        if (!res.ok) throw new Error(`compact etcd: HTTP ${res.status}: ${await res.text()}`);
      },
      pids: () => [...processes.values()].flatMap((p) => (p.running && p.pid !== undefined ? [p.pid] : [])),
      kill: async (component) => {
        await processes.get(component)?.stop();
      },
      restart: async (component) => {
        const p = processes.get(component);
        if (!p) throw new Error(`restart ${component}: not started in this control plane`);
        await p.stop();
        p.start();
        await api.waitReady(processes.get("kube-apiserver"), 90_000);
      },
      stop,
    };
    return plane;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Just enough of a client to bring the control plane up, without depending on a Kubernetes client library. */
class ApiClient {
  private readonly tls: { ca: Buffer; cert: Buffer; key: Buffer };

  constructor(
    private readonly server: string,
    pki: Pki,
  ) {
    this.tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) };
  }

  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.server),
        { method, ...this.tls, headers: { "content-type": "application/json" }, timeout: 5000 },
        (res) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            data += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async waitReady(proc: ManagedProcess | undefined, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (proc && !proc.running) {
        throw new Error(`kube-apiserver exited before it was ready:\n${proc.logTail()}`);
      }
      try {
        const res = await this.call("GET", "/readyz");
        if (res.status === 200) return;
        last = `${res.status} ${res.body.slice(0, 500)}`;
      } catch (err) {
        last = String(err);
      }
      await sleep(200);
    }
    throw new Error(`kube-apiserver not ready after ${timeoutMs}ms: ${last}\n${proc?.logTail() ?? ""}`);
  }

  async createFakeNode(): Promise<void> {
    const resources = { cpu: "32", memory: "256Gi", pods: "250", "ephemeral-storage": "1Ti" };
    const node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: fakeNodeName,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          "kubernetes.io/hostname": fakeNodeName,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          type: "kwok",
        },
      },
      status: { allocatable: resources, capacity: resources },
    };
    const res = await this.call("POST", "/api/v1/nodes", node);
    if (res.status !== 201 && res.status !== 409) throw new Error(`create fake node: ${res.status} ${res.body}`);
  }

  async waitNodeReady(name: string, timeoutMs: number, kwok: () => ManagedProcess | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const p = kwok();
      if (p && !p.running) throw new Error(`kwok exited:\n${p.logTail()}`);
      const res = await this.call("GET", `/api/v1/nodes/${name}`).catch(() => undefined);
      if (res?.status === 200) {
        const conditions = (JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } })
          .status?.conditions;
        if (conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
      }
      await sleep(250);
    }
    throw new Error(`node ${name} not Ready after ${timeoutMs}ms:\n${kwok()?.logTail() ?? ""}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
