// A second opinion on shapes: @kubernetes-models/flux-cd is generated independently, from Flux's Go types of a
// published release. Type-level checks (enforced by `pnpm typecheck`) say every field it knows exists in our models
// with the same required set; runtime checks run its validators over our fixtures.
import type {
  IKustomizationSpec,
  IKustomizationStatus,
  IPostBuild,
  IResourceRef,
} from "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1";
import { Kustomization as FluxKustomization } from "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1";
import {
  Receiver as FluxReceiver,
  type IReceiverSpec,
  type IReceiverStatus,
} from "@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1";
import {
  Alert as FluxAlert,
  Provider as FluxProvider,
  type IAlertSpec,
  type IProviderSpec,
} from "@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1beta3";
import {
  GitRepository as FluxGitRepository,
  type IGitRepositoryRef,
  type IGitRepositorySpec,
  type IGitRepositoryStatus,
  type IGitRepositoryVerification,
} from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1";
import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  AlertSpec,
  GitRepositoryRef,
  GitRepositorySpec,
  GitRepositoryStatus,
  GitRepositoryVerification,
  KustomizationSpec,
  KustomizationStatus,
  PostBuild,
  ProviderSpec,
  ReceiverSpec,
  ReceiverStatus,
  ResourceRef,
} from "../generated/models.gen.js";
import { alerts, gitRepositories, kustomizations, providers, receivers } from "./fixtures.js";

// Our enums are newer than theirs in places (e.g. GitRepository provider 'aws'), so the fixtures go in as plain JSON
// and their runtime validator, not the compiler, judges them.
const plain = (f: object) => JSON.parse(JSON.stringify(f));

type Missing<Theirs, Ours> = Exclude<keyof Theirs, keyof Ours>;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

describe("Given @kubernetes-models/flux-cd as an independent reading of Flux's API", () => {
  it("should find every one of its fields in our models, with the same required fields", () => {
    expectTypeOf<Missing<IGitRepositorySpec, GitRepositorySpec>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IGitRepositoryStatus, GitRepositoryStatus>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IGitRepositoryRef, GitRepositoryRef>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IGitRepositoryVerification, GitRepositoryVerification>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IKustomizationSpec, KustomizationSpec>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IKustomizationStatus, KustomizationStatus>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IPostBuild, PostBuild>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IResourceRef, ResourceRef>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IProviderSpec, ProviderSpec>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IAlertSpec, AlertSpec>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IReceiverSpec, ReceiverSpec>>().toEqualTypeOf<never>();
    expectTypeOf<Missing<IReceiverStatus, ReceiverStatus>>().toEqualTypeOf<never>();

    expectTypeOf<RequiredKeys<GitRepositorySpec>>().toEqualTypeOf<RequiredKeys<IGitRepositorySpec>>();
    expectTypeOf<RequiredKeys<GitRepositoryVerification>>().toEqualTypeOf<RequiredKeys<IGitRepositoryVerification>>();
    expectTypeOf<RequiredKeys<KustomizationSpec>>().toEqualTypeOf<RequiredKeys<IKustomizationSpec>>();
    expectTypeOf<RequiredKeys<ResourceRef>>().toEqualTypeOf<RequiredKeys<IResourceRef>>();
    expectTypeOf<RequiredKeys<ProviderSpec>>().toEqualTypeOf<RequiredKeys<IProviderSpec>>();
    expectTypeOf<RequiredKeys<AlertSpec>>().toEqualTypeOf<RequiredKeys<IAlertSpec>>();
    // Flux made secretRef optional when generic-oidc Receivers arrived (a CEL rule requires it for other types);
    // the release this package was generated from still lists it as required.
    expectTypeOf<RequiredKeys<ReceiverSpec> | "secretRef">().toEqualTypeOf<RequiredKeys<IReceiverSpec>>();
  });

  const validated = [
    ...gitRepositories().map(
      (f) => [f.kind, f.metadata.name, () => new FluxGitRepository(plain(f)).validate()] as const,
    ),
    // defaults-substituted is left out: a healthCheckExprs entry without kind is newer than that release.
    ...kustomizations()
      .filter((f) => f.metadata.name !== "defaults-substituted")
      .map((f) => [f.kind, f.metadata.name, () => new FluxKustomization(plain(f)).validate()] as const),
    // smtp is left out: it is a Capstan provider type, not Flux's.
    ...providers()
      .filter((f) => f.spec.type !== "smtp")
      .map((f) => [f.kind, f.metadata.name, () => new FluxProvider(plain(f)).validate()] as const),
    ...alerts().map((f) => [f.kind, f.metadata.name, () => new FluxAlert(plain(f)).validate()] as const),
    // actions-oidc is left out: generic-oidc is newer than the release @kubernetes-models/flux-cd 4.0.0 was made from.
    ...receivers()
      .filter((f) => f.metadata.name !== "actions-oidc")
      .map((f) => [f.kind, f.metadata.name, () => new FluxReceiver(plain(f)).validate()] as const),
  ];

  it.each(validated)("should accept our %s fixture %s with its validator", (_, __, validate) => {
    expect(validate).not.toThrow();
  });
});
