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
{{- if .Values.minio.enabled -}}{{ .Values.minio.existingSecret | default (printf "%s-minio" (include "vdl.fullname" .)) }}{{- else -}}{{ required "s3.existingSecret is required when minio.enabled is false" .Values.s3.existingSecret }}{{- end -}}
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
