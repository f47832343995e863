// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax under test
// Rotation without a commit (Flux 2.5+): a substituteFrom Secret or ConfigMap labelled reconcile.fluxcd.io/watch:
// Enabled that changes in the cluster reconciles the Kustomizations naming it, with the same artifact: the new
// value reaches the applied object without a Git change (the interval is an hour, so nothing else reconciles).
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { Harness } from "../testing/harness.js";
import { getConfigMap, kubeconfig, readyAt, scenario, untilKustomization } from "../testing/scenario.js";

const manifest = (name: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  annotations:
    # The restart-on-change pattern: a content hash through substitution (README, "Secrets").
    checksum/db: "\${db_checksum}"
data:
  password: "\${db_password}"
  level: "\${level}"
`;

const watched = { "reconcile.fluxcd.io/watch": "Enabled" };

async function secret(h: Harness, name: string, password: string, labels?: Record<string, string>): Promise<void> {
  await h.client.apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: h.namespace, ...(labels ? { labels } : {}) },
      stringData: { db_password: password, db_checksum: `sha-${password}` },
    },
    { fieldManager: "test" },
  );
}

async function configMap(h: Harness, name: string, level: string, labels?: Record<string, string>): Promise<void> {
  await h.client.apply(
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: h.namespace, ...(labels ? { labels } : {}) },
      data: { level },
    },
    { fieldManager: "test" },
  );
}

const spec = (h: Harness, secretName: string, cmName: string) => ({
  interval: "1h",
  targetNamespace: h.namespace,
  postBuild: {
    substituteFrom: [
      { kind: "ConfigMap", name: cmName },
      { kind: "Secret", name: secretName },
    ],
  },
});

describe("Kustomization substituteFrom watch (reconcile.fluxcd.io/watch: Enabled)", () => {
  it("Given a labelled Secret and ConfigMap, should apply their new values without a Git change when they change", async () => {
    const { h } = await scenario(kubeconfig(), "ks-config-watch");
    await secret(h, "db", "first", watched);
    await configMap(h, "settings", "info", watched);
    const a = await h.artifact({ "app.yaml": manifest("app") });
    await h.publish("repo", a);
    await h.kustomization("app", spec(h, "db", "settings"));
    await untilKustomization(h, "app", "applied", readyAt(a.revision));
    expect((await getConfigMap(h, "app"))?.data).toEqual({ password: "first", level: "info" });

    await secret(h, "db", "rotated", watched);
    await eventually(async () => (await getConfigMap(h, "app"))?.data?.password === "rotated", {
      what: "the rotated password applied",
    });
    expect((await getConfigMap(h, "app"))?.metadata.annotations?.["checksum/db"]).toBe("sha-rotated");

    await configMap(h, "settings", "debug", watched);
    await eventually(async () => (await getConfigMap(h, "app"))?.data?.level === "debug", {
      what: "the new ConfigMap value applied",
    });
    const k = await h.getKustomization("app");
    expect(k?.status?.lastAppliedRevision).toBe(a.revision);
  });

  it("Given a Secret without the label, should leave it to the interval while a labelled one is applied at once", async () => {
    const { h } = await scenario(kubeconfig(), "ks-config-unwatched");
    await secret(h, "plain", "first");
    await configMap(h, "plain-settings", "info");
    await secret(h, "labelled", "first", watched);
    await configMap(h, "labelled-settings", "info");
    const b = await h.artifact({
      "plain/app.yaml": manifest("plain"),
      "labelled/app.yaml": manifest("labelled"),
    });
    await h.publish("repo", b);
    await h.kustomization("plain", { ...spec(h, "plain", "plain-settings"), path: "./plain" });
    await h.kustomization("labelled", { ...spec(h, "labelled", "labelled-settings"), path: "./labelled" });
    await untilKustomization(h, "plain", "applied", readyAt(b.revision));
    await untilKustomization(h, "labelled", "applied", readyAt(b.revision));

    // The unlabelled change first, then the labelled one: when the second has been applied, the first, had it been
    // watched, would have been too.
    await secret(h, "plain", "rotated");
    await secret(h, "labelled", "rotated", watched);
    await eventually(async () => (await getConfigMap(h, "labelled"))?.data?.password === "rotated", {
      what: "the labelled Secret's new value applied",
    });
    expect((await getConfigMap(h, "plain"))?.data?.password).toBe("first");
  });
});
