{{- define "capstan.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{/*
part-of=flux and component=<controller> are what the flux CLI selects on (flux check, flux version, flux logs list
Deployments labelled app.kubernetes.io/part-of=flux in the namespace they are given): Capstan serves Flux's APIs, so
Flux's tools find it the way they find Flux. helm.sh/chart says which project's chart installed it.
*/}}
{{- define "capstan.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Chart.Name }}
app.kubernetes.io/part-of: flux
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The pod template's labels: the selector's, plus what the flux CLI and dashboards group pods by. */}}
{{- define "capstan.podLabels" -}}
{{ include "capstan.selectorLabels" . }}
app.kubernetes.io/component: {{ .Chart.Name }}
app.kubernetes.io/part-of: flux
{{- end -}}

{{- define "capstan.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "capstan.serviceAccountName" -}}
{{- default .Chart.Name .Values.serviceAccount.name -}}
{{- end -}}

{{- define "capstan.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "capstan.commonArgs" -}}
- --health-addr=:9440
- --metrics-addr=:8080
- --log-level={{ .Values.logLevel }}
- --log-encoding={{ .Values.logEncoding }}
- --watch-all-namespaces={{ .Values.watchAllNamespaces }}
- --concurrent={{ .Values.concurrent }}
- --leader-elect={{ .Values.leaderElection.enabled }}
{{- range .Values.extraArgs }}
- {{ . }}
{{- end }}
{{- end -}}

{{- define "capstan.env" -}}
- name: RUNTIME_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with .Values.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "capstan.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "capstan.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: healthz }
  periodSeconds: 10
readinessProbe:
  httpGet: { path: /readyz, port: healthz }
  periodSeconds: 5
{{- end -}}

{{- define "capstan.podScheduling" -}}
{{- with .Values.nodeSelector }}
nodeSelector: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{ toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "capstan.leaderElectionRules" -}}
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}

{{/*
Sharding (values.shards, as Flux documents it): the name of a shard's Deployment (and source-controller's Service),
"<chart>-<shard>", or the chart's name for the main one ("" shard). Shard names must be DNS labels.
*/}}
{{- define "capstan.shardName" -}}
{{- if .shard -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .shard) -}}
{{- fail (printf "shards: %q is not a DNS label (lower-case letters, digits and '-')" .shard) -}}
{{- end -}}
{{- printf "%s-%s" .root.Chart.Name .shard -}}
{{- else -}}
{{- .root.Chart.Name -}}
{{- end -}}
{{- end -}}

{{/* The --watch-label-selector of a Deployment when values.shards is set: its shard, or none of them. */}}
{{- define "capstan.shardSelectorArg" -}}
{{- if .shard }}
- --watch-label-selector=sharding.fluxcd.io/key in ({{ .shard }})
{{- else if .root.Values.shards }}
- --watch-label-selector=!sharding.fluxcd.io/key
{{- end }}
{{- end -}}
