// charts/dashboard: lints clean, and its RBAC is enough and no more. The dashboard runs here with nothing but a token of
// the chart's ServiceAccount, bound to the chart's ClusterRole: it must list, review tokens and access, and act as a
// user; with its own identity it must not be able to write.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { ensureBinaries } from "@capstan/cluster";
import { eventually, testKubeconfigPath } from "@capstan/cluster/testing";
import { isForbidden, KubeClient, type KubeObject } from "@capstan/runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import type { Dashboard } from "../server/index.js";
import {
  dashboard,
  fm,
  gitRepository,
  grant,
  kustomization,
  serviceAccountToken,
  type TestCluster,
  testCluster,
} from "../test/harness.js";
import { openStream } from "../test/sse.js";

const run = promisify(execFile);
const chart = resolve(import.meta.dirname, "..", "..", "..", "..", "charts", "dashboard");

async function helm(args: string[]): Promise<string> {
  const { bin } = await ensureBinaries();
  try {
    return (await run(bin.helm, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    throw new Error(`helm ${args.join(" ")}: ${(err as { stderr?: string }).stderr ?? err}`, { cause: err });
  }
}

let tc: TestCluster;
let ns: string;
let release: string;
let rendered: KubeObject[];
let dashClient: KubeClient;
let dash: Dashboard;

beforeAll(async () => {
  tc = await testCluster(testKubeconfigPath(inject("capstanKubeconfig")));
  ns = await tc.namespace("dash-chart");
  release = `r-${ns.slice(-6)}`;
  rendered = parseAllDocuments(await helm(["template", release, chart, "-n", ns]))
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
  for (const o of rendered.filter((o) => ["ClusterRole", "ClusterRoleBinding"].includes(o.kind))) {
    await tc.client.apply(o, fm);
  }
  const sa = await serviceAccountToken(tc.path, tc.client, ns, "dashboard");
  const admin = parse(readFileSync(tc.path, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  };
  const cluster = admin.clusters[0]?.cluster;
  dashClient = KubeClient.fromKubeconfig(
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster }],
      users: [{ name: "u", user: { token: sa.token } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  dash = await dashboard(dashClient);
});
afterAll(async () => {
  await dash?.close();
  dashClient?.close();
  for (const o of rendered?.filter((o) => o.kind.startsWith("Cluster")) ?? []) {
    await tc.client.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name }).catch(() => undefined);
  }
  await tc?.cleanup();
});

describe("Given charts/dashboard", () => {
  it("should lint without errors or warnings", async () => {
    const out = await helm(["lint", "--strict", chart]);
    expect(out).toContain("0 chart(s) failed");
    expect(out).not.toMatch(/\[(ERROR|WARNING)\]/);
  });

  it("should grant only reads, token and access reviews, and impersonate", () => {
    const role = rendered.find((o) => o.kind === "ClusterRole") as KubeObject & {
      rules: { resources: string[]; verbs: string[] }[];
    };
    const verbs = new Set(role.rules.flatMap((r) => r.verbs));
    expect([...verbs].sort()).toEqual(["create", "get", "impersonate", "list", "watch"]);
    const creates = role.rules.filter((r) => r.verbs.includes("create")).flatMap((r) => r.resources);
    expect(creates.sort()).toEqual(["subjectaccessreviews", "tokenreviews"]);
  });

  it("should run the dashboard with the chart's RBAC alone: login, filtered list, and an action as the user", async () => {
    await gitRepository(tc.client, ns, "repo");
    await kustomization(tc.client, ns, "app");
    const user = await serviceAccountToken(tc.path, tc.client, ns, "alice");
    await grant(tc.client, ns, user.user, ["get", "list", "watch", "patch"], "alice");
    // The objects were just created: a stream opened before the informers saw them has a snapshot without them.
    await eventually(
      async () => {
        const s = openStream(dash.url, { authorization: `Bearer ${user.token}` });
        try {
          const keys = (await s.snapshot).items.map((i) => i.key);
          return keys.includes(`Kustomization/${ns}/app`) && keys.includes(`GitRepository/${ns}/repo`);
        } finally {
          s.close();
        }
      },
      { what: "the user's snapshot lists the Kustomization and GitRepository" },
    );
    const res = await fetch(`${dash.url}/api/actions/suspend/Kustomization/${ns}/app`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it("should leave the dashboard's own identity unable to write", async () => {
    const err = await dashClient
      .mergePatch(
        { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", name: "app", namespace: ns },
        { spec: { suspend: false } },
      )
      .catch((e: unknown) => e);
    expect(isForbidden(err)).toBe(true);
  });
});
