// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${var} is the substitution syntax itself
import { ReconcileError } from "@capstan/runtime";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube.js";
import { substituteObjects } from "./substitute.js";

const deployment = (extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web-${ENV}", namespace: "apps", ...extra },
  spec: { replicas: "${REPLICAS:=1}", template: { spec: { containers: [{ name: "web", image: "nginx:${TAG}" }] } } },
});

describe("substituteObjects", () => {
  it("Given variables, should expand names, strings and retype numbers as Flux does", () => {
    const [out] = substituteObjects([deployment()], { ENV: "prod", REPLICAS: "3", TAG: "1.27" });
    expect(out?.metadata.name).toBe("web-prod");
    expect((out!.spec as { replicas: unknown }).replicas).toBe(3);
    expect(JSON.stringify(out)).toContain("nginx:1.27");
  });

  it("Given a default and no value, should use the default", () => {
    const [out] = substituteObjects([deployment()], { ENV: "dev", TAG: "x" });
    expect((out!.spec as { replicas: unknown }).replicas).toBe(1);
  });

  it("Given no variables (substituteStrategy WithVariables, the default), should not substitute at all", () => {
    const obj = deployment();
    const [out] = substituteObjects([obj], {}, { strict: true });
    expect(out).toEqual(obj);
  });

  it("Given no variables and substituteStrategy Always, should expand defaults and empty the rest", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { region: "${region:=eu-central-1}", missing: "[${missing}]" },
    };
    const [out] = substituteObjects([cm], {}, { always: true });
    expect((out as unknown as { data: unknown }).data).toEqual({ region: "eu-central-1", missing: "[]" });
  });

  it("Given the $${var} escape, should keep the literal ${var}", () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { script: "echo $${HOME}" },
    };
    const [out] = substituteObjects([cm], { HOME: "/root" });
    expect((out as unknown as { data: { script: string } }).data.script).toBe("echo ${HOME}");
  });

  it.each([
    ["annotation", { annotations: { "kustomize.toolkit.fluxcd.io/substitute": "disabled" } }],
    ["label", { labels: { "kustomize.toolkit.fluxcd.io/substitute": "disabled" } }],
  ])("Given substitution disabled by %s, should leave the object untouched", (_by, meta) => {
    const obj = deployment(meta);
    const [out] = substituteObjects([obj], { ENV: "prod", TAG: "1" });
    expect(out).toEqual(obj);
  });

  it("Given strict mode and a missing variable, should fail naming the object and the variable", () => {
    expect(() => substituteObjects([deployment()], { ENV: "prod" }, { strict: true })).toThrowError(
      /Deployment\/apps\/web-\$\{ENV\}: post-build substitution failed: variable not set \(strict mode\): "TAG"/,
    );
  });

  it("Given an invalid variable name, should fail with BuildFailed", () => {
    expect(() => substituteObjects([deployment()], { "bad-name": "x" })).toThrow(ReconcileError);
  });

  it("Given a value with newlines, should not break the YAML (values are single-line)", () => {
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "${V}" } };
    const long = "x".repeat(200);
    const [out] = substituteObjects([cm], { V: long });
    expect((out as unknown as { data: { a: string } }).data.a).toBe(long);
  });
});
