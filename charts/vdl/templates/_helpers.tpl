{{/* The chart's name, for the app.kubernetes.io/name label: nameOverride, else "vdl". */}}
{{- define "vdl.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every object's name: fullnameOverride, else the release name
(with "-<nameOverride>" when nameOverride is set and the release name does
not hold it). Without either override it stays the release name, as in
every earlier version, so an upgrade renames nothing.
*/}}
{{- define "vdl.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if and .Values.nameOverride (not (contains .Values.nameOverride .Release.Name)) -}}
{{- printf "%s-%s" .Release.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Every object's labels, commonLabels included. The schema keeps commonLabels
and podLabels out of the app.kubernetes.io/, helm.sh/ and vdl.dev/ keys, so
they can neither clash with these nor move a selector.
*/}}
{{- define "vdl.labels" -}}
app.kubernetes.io/name: {{ include "vdl.name" . }}
app.kubernetes.io/part-of: vdl
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
What selects a component's pods (Deployments, Services, PDBs and
NetworkPolicies): never nameOverride, commonLabels or podLabels, so neither
moves a selector (a Deployment's cannot change on upgrade).
*/}}
{{- define "vdl.selector" -}}
app.kubernetes.io/part-of: vdl
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* A pod template's metadata: the labels with the component and its podLabels; .annotations with its podAnnotations, which win. */}}
{{- define "vdl.podMetadata" -}}
labels:
  {{- if .stable }}
  {{- /* A pod that holds data: only what stays the same from one chart version to the next. */}}
  {{- include "vdl.selector" (dict "root" .root "component" .component) | nindent 2 }}
  app.kubernetes.io/name: {{ include "vdl.name" .root }}
  app.kubernetes.io/managed-by: {{ .root.Release.Service }}
  {{- with .root.Values.commonLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- else }}
  {{- include "vdl.labels" .root | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
  {{- end }}
  {{- with .values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- $annotations := merge (dict) (.values.podAnnotations | default dict) (.annotations | default dict) }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
A pod's scheduling and pull settings from its component's values:
nodeSelector, tolerations, affinity, topologySpreadConstraints,
priorityClassName, and the global imagePullSecrets.
*/}}
{{- define "vdl.podScheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
An image of vdl's: registry/name@digest when image.digests names one (the
tag is then ignored), else registry/name:tag.
*/}}
{{- define "vdl.image" -}}
{{- $digest := index (.root.Values.image.digests | default dict) .name -}}
{{- if $digest -}}
{{- printf "%s/%s@%s" .root.Values.image.registry .name $digest -}}
{{- else -}}
{{- printf "%s/%s:%s" .root.Values.image.registry .name (.root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "vdl.s3Secret" -}}
{{- if .Values.minio.enabled -}}{{ .Values.minio.existingSecret | default (printf "%s-minio" (include "vdl.fullname" .)) }}{{- else -}}{{ required "s3.existingSecret is required when minio.enabled is false" .Values.s3.existingSecret }}{{- end -}}
{{- end -}}

{{- define "vdl.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}http://{{ include "vdl.fullname" . }}-minio.{{ .Release.Namespace }}.svc:9000{{- else -}}{{ required "s3.endpoint is required when minio.enabled is false" .Values.s3.endpoint }}{{- end -}}
{{- end -}}

{{/*
The security contexts of every pod and container of the chart: the
restricted Pod Security Standard by default (values podSecurityContext and
containerSecurityContext). A key set to null in a release's values is left
out, e.g. podSecurityContext.runAsUser where OpenShift's restricted SCC
assigns the UID itself.
*/}}
{{- define "vdl.containerSecurity" -}}
{{- toYaml .Values.containerSecurityContext -}}
{{- end -}}

{{- define "vdl.podSecurity" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "vdl.roleKind" -}}
{{- if .Values.operator.clusterWide -}}ClusterRole{{- else -}}Role{{- end -}}
{{- end -}}

{{/*
Public unicast addresses, for the download pods' internet rule. The except
lists mirror lib/net/address-policy.ts (every range ipaddr.js does
not call unicast); test/integration/chart-network.test.ts checks that they agree.
IPv6: only global unicast (2000::/3) is opened at all.
*/}}
{{- define "vdl.publicInternet" -}}
- ipBlock:
    cidr: 0.0.0.0/0
    except:
      - 0.0.0.0/8
      - 10.0.0.0/8
      - 100.64.0.0/10
      - 127.0.0.0/8
      - 169.254.0.0/16
      - 172.16.0.0/12
      - 192.0.0.0/24
      - 192.0.2.0/24
      - 192.31.196.0/24
      - 192.52.193.0/24
      - 192.88.99.0/24
      - 192.168.0.0/16
      - 192.175.48.0/24
      - 198.18.0.0/15
      - 198.51.100.0/24
      - 203.0.113.0/24
      - 224.0.0.0/4
      - 240.0.0.0/4
- ipBlock:
    cidr: 2000::/3
    except:
      - 2001::/23
      - 2001:db8::/32
      - 2002::/16
      - 2620:4f:8000::/48
      - 3fff::/20
{{- end -}}

{{/*
The Kubernetes API server as ipBlocks: networkPolicy.apiServerCIDRs, else
what the cluster says at install time (the endpoints of default/kubernetes and
its Service IP, since CNIs differ in which of the two they match). Empty
where nothing is known (helm template without a cluster).
*/}}
{{- define "vdl.apiServerCIDRs" -}}
{{- $cidrs := list -}}
{{- if .Values.networkPolicy.apiServerCIDRs -}}
{{- $cidrs = .Values.networkPolicy.apiServerCIDRs -}}
{{- else -}}
{{- $slice := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "kubernetes" | default dict -}}
{{- range ($slice.endpoints | default list) -}}
{{- range (.addresses | default list) -}}
{{- $cidrs = append $cidrs (ternary (printf "%s/128" .) (printf "%s/32" .) (contains ":" .)) -}}
{{- end -}}
{{- end -}}
{{- $service := lookup "v1" "Service" "default" "kubernetes" | default dict -}}
{{- with ($service.spec | default dict).clusterIP -}}
{{- $cidrs = append $cidrs (ternary (printf "%s/128" .) (printf "%s/32" .) (contains ":" .)) -}}
{{- end -}}
{{- end -}}
{{- toJson (uniq $cidrs) -}}
{{- end -}}

{{/* The API server's ports: networkPolicy.apiServerPorts (443 for its Service, 6443), and what its endpoints say. */}}
{{- define "vdl.apiServerPorts" -}}
{{- $ports := .Values.networkPolicy.apiServerPorts -}}
{{- if not .Values.networkPolicy.apiServerCIDRs -}}
{{- $slice := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "kubernetes" | default dict -}}
{{- range ($slice.ports | default list) -}}
{{- $ports = append $ports (int .port) -}}
{{- end -}}
{{- end -}}
{{- range (uniq $ports) }}
- { protocol: TCP, port: {{ . }} }
{{- end -}}
{{- end -}}

{{/* DNS, for every vdl pod that makes connections: the cluster's DNS pods only, in their own namespace. */}}
{{- define "vdl.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels: { kubernetes.io/metadata.name: {{ .Values.networkPolicy.dns.namespace | quote }} }
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podLabels | nindent 10 }}
  ports:
    - { protocol: UDP, port: 53 }
    - { protocol: TCP, port: 53 }
{{- end -}}

{{/* Object storage: the bundled MinIO, else networkPolicy.s3CIDRs. */}}
{{- define "vdl.storageEgress" -}}
{{- if .Values.minio.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "vdl.selector" (dict "root" . "component" "minio") | nindent 10 }}
  ports:
    - { protocol: TCP, port: 9000 }
{{- else if .Values.networkPolicy.s3CIDRs }}
- to:
    {{- range .Values.networkPolicy.s3CIDRs }}
    - ipBlock: { cidr: {{ . | quote }} }
    {{- end }}
{{- end -}}
{{- end -}}

{{/* The port of s3.endpoint (80 or 443 when it names none). */}}
{{- define "vdl.s3Port" -}}
{{- $url := urlParse (include "vdl.s3Endpoint" .) -}}
{{- $hostPort := splitList ":" $url.host -}}
{{- if gt (len $hostPort) 1 -}}{{ last $hostPort }}{{- else if eq $url.scheme "http" -}}80{{- else -}}443{{- end -}}
{{- end -}}

{{/*
Egress of the API and the operator beyond DNS: the API server and object
storage. They parse no untrusted content, so where the API server's address
is unknown (helm template without a cluster) they may use its ports on any
address; download pods never may.
*/}}
{{- define "vdl.trustedEgress" -}}
{{- $root := .root -}}
{{- if .apiServer }}
- to:
    {{- range .apiServer }}
    - ipBlock: { cidr: {{ . | quote }} }
    {{- end }}
  ports:
    {{- include "vdl.apiServerPorts" $root | nindent 4 }}
{{- else }}
- ports:
    {{- include "vdl.apiServerPorts" $root | nindent 4 }}
{{- end }}
{{- if or $root.Values.minio.enabled $root.Values.networkPolicy.s3CIDRs }}
{{- include "vdl.storageEgress" $root }}
{{- else }}
# External S3 without networkPolicy.s3CIDRs: its port on any address.
- ports:
    - { protocol: TCP, port: {{ include "vdl.s3Port" $root }} }
{{- end }}
{{- end -}}

{{- /* The claims downloads may write onto, as VDL_VOLUME_CLAIMS reads them: namespace/name[:uid:gid], comma-separated. */ -}}
{{- define "vdl.volumeClaims" -}}
{{- $claims := list }}
{{- range .Values.operator.volumeOutput.claims }}
{{- $entry := printf "%s/%s" (.namespace | default $.Release.Namespace) (required "operator.volumeOutput.claims[].name is required" .name) }}
{{- if or (hasKey . "uid") (hasKey . "gid") }}
{{- $entry = printf "%s:%s:%s" $entry (toString (.uid | default "")) (toString (.gid | default "")) }}
{{- end }}
{{- $claims = append $claims $entry }}
{{- end }}
{{- join "," $claims }}
{{- end }}
