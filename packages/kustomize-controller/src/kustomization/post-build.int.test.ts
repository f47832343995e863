// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax under test
// postBuild variable substitution through the reconciler: inline values over ConfigMap and Secret ones, an optional
// source that is absent, `$${var}` kept literally, a missing variable left empty (or, with the
// StrictPostBuildSubstitutions gate, a failure naming it), and substituteStrategy (no variables: nothing substituted
// unless Always).
import { eventually } from "@capstan/cluster/testing";
import { describe, expect, it } from "vitest";
import type { Harness } from "../testing/harness.js";
import { readyOf } from "../testing/harness.js";
import { failedWith, getConfigMap, kubeconfig, readyAt, scenario, untilKustomization } from "../testing/scenario.js";

const manifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
  labels:
    env: "\${env}"
data:
  inline: "\${inline}"
  fromConfigMap: "\${cm_var}"
  fromSecret: "\${secret_var}"
  precedence: "\${both}"
  escaped: "$\${inline}"
  missing: "[\${missing}]"
  defaulted: "\${missing:=fallback}"
`;

async function variables(h: Harness): Promise<void> {
  const metadata = (name: string) => ({ name, namespace: h.namespace });
  await h.client.apply(
    { apiVersion: "v1", kind: "ConfigMap", metadata: metadata("cm-vars"), data: { cm_var: "from-cm", both: "cm" } },
    { fieldManager: "test" },
  );
  await h.client.apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: metadata("secret-vars"),
      data: { secret_var: Buffer.from("from-secret").toString("base64"), env: Buffer.from("prod").toString("base64") },
    },
    { fieldManager: "test" },
  );
}

const postBuild = {
  substitute: { inline: "a", both: "inline-wins" },
  substituteFrom: [
    { kind: "ConfigMap", name: "cm-vars" },
    { kind: "Secret", name: "secret-vars" },
    { kind: "ConfigMap", name: "absent-vars", optional: true },
  ],
};

describe("Kustomization postBuild substitution", () => {
  it("Given substitute and substituteFrom, should apply the object with every variable resolved as Flux does", async () => {
    const { h } = await scenario(kubeconfig(), "ks-postbuild");
    await variables(h);
    const a = await h.artifact({ "vars.yaml": manifest });
    await h.publish("repo", a);
    await h.kustomization("vars", { targetNamespace: h.namespace, postBuild });
    await untilKustomization(h, "vars", "applied", readyAt(a.revision));
    const cm = await getConfigMap(h, "vars");
    expect(cm?.data).toEqual({
      inline: "a",
      fromConfigMap: "from-cm",
      fromSecret: "from-secret",
      precedence: "inline-wins",
      escaped: "${inline}",
      missing: "[]",
      defaulted: "fallback",
    });
    expect(cm?.metadata.labels?.env).toBe("prod");
  });

  it("Given no variables, should substitute nothing (WithVariables) until substituteStrategy is Always", async () => {
    const { h } = await scenario(kubeconfig(), "ks-postbuild-strategy");
    const a = await h.artifact({
      "vars.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
data:
  defaulted: "\${region:=eu-central-1}"
  missing: "[\${missing}]"
`,
    });
    await h.publish("repo", a);
    const noVariables = { substituteFrom: [{ kind: "ConfigMap", name: "absent-vars", optional: true }] };
    await h.kustomization("vars", { targetNamespace: h.namespace, postBuild: noVariables });
    await untilKustomization(h, "vars", "applied", readyAt(a.revision));
    expect((await getConfigMap(h, "vars"))?.data).toEqual({
      defaulted: "${region:=eu-central-1}",
      missing: "[${missing}]",
    });

    await h.kustomization("vars", {
      targetNamespace: h.namespace,
      postBuild: { ...noVariables, substituteStrategy: "Always" },
    });
    await eventually(async () => (await getConfigMap(h, "vars"))?.data?.defaulted === "eu-central-1", {
      what: "the default substituted once substituteStrategy is Always",
      timeoutMs: 60_000,
    });
    expect((await getConfigMap(h, "vars"))?.data?.missing).toBe("[]");
  });

  it("Given a required substituteFrom that does not exist, should fail BuildFailed naming it", async () => {
    const { h } = await scenario(kubeconfig(), "ks-postbuild-absent");
    const a = await h.artifact({ "vars.yaml": manifest });
    await h.publish("repo", a);
    await h.kustomization("vars", {
      targetNamespace: h.namespace,
      postBuild: { substituteFrom: [{ kind: "Secret", name: "required-vars" }] },
    });
    const k = await untilKustomization(h, "vars", "build failed", failedWith("BuildFailed"));
    expect(readyOf(k)?.message).toContain(
      `substitute from 'Secret/required-vars' error: Secret "required-vars" not found`,
    );
    expect(await getConfigMap(h, "vars")).toBeUndefined();
  });

  it("Given StrictPostBuildSubstitutions and a missing variable, should fail BuildFailed naming the variable and the object", async () => {
    const { h } = await scenario(kubeconfig(), "ks-postbuild-strict", {
      flags: ["--feature-gates=StrictPostBuildSubstitutions=true"],
    });
    await variables(h);
    const a = await h.artifact({ "vars.yaml": manifest });
    await h.publish("repo", a);
    await h.kustomization("vars", { targetNamespace: h.namespace, postBuild });
    const k = await untilKustomization(h, "vars", "build failed", failedWith("BuildFailed"));
    const message = readyOf(k)?.message ?? "";
    expect(message).toContain(`ConfigMap/${h.namespace}/vars`);
    expect(message).toContain('variable not set (strict mode): "missing"');
    expect(await getConfigMap(h, "vars")).toBeUndefined();
  });
});
