{{- define "vdl.fullname" -}}
{{- printf "%s" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "vdl.labels" -}}
app.kubernetes.io/part-of: vdl
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "vdl.selector" -}}
app.kubernetes.io/part-of: vdl
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vdl.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .name (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "vdl.s3Secret" -}}
{{- if .Values.minio.enabled -}}{{ include "vdl.fullname" . }}-minio{{- else -}}{{ required "s3.existingSecret is required when minio.enabled is false" .Values.s3.existingSecret }}{{- end -}}
{{- end -}}

{{- define "vdl.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}http://{{ include "vdl.fullname" . }}-minio.{{ .Release.Namespace }}.svc:9000{{- else -}}{{ required "s3.endpoint is required when minio.enabled is false" .Values.s3.endpoint }}{{- end -}}
{{- end -}}

{{/* The restricted Pod Security Standard, for every container of the chart. */}}
{{- define "vdl.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "vdl.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "vdl.roleKind" -}}
{{- if .Values.operator.clusterWide -}}ClusterRole{{- else -}}Role{{- end -}}
{{- end -}}
