{{/* Name of every object: the release name, or <release>-agentidp when it lacks "agentidp". */}}
{{- define "agentidp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "agentidp.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agentidp.labels" -}}
{{ include "agentidp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "agentidp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agentidp.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "agentidp.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{- define "agentidp.secret" -}}
{{- required "existingSecret: name the Secret holding AGENTIDP_DATABASE_URL, AGENTIDP_REDIS_URL, AGENTIDP_MASTER_KEY and AGENTIDP_SECRET_PEPPER" .Values.existingSecret -}}
{{- end -}}

{{/* The restricted Pod Security Standard, for the pod and for each container. */}}
{{- define "agentidp.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "agentidp.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment shared by the server and the migration Job. */}}
{{- define "agentidp.env" -}}
- name: AGENTIDP_ISSUER
  value: {{ .Values.config.issuer | quote }}
- name: AGENTIDP_TRUSTED_PROXIES
  value: {{ .Values.config.trustedProxies | quote }}
- name: AGENTIDP_LOG_FORMAT
  value: {{ .Values.config.logFormat | quote }}
- name: AGENTIDP_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: AGENTIDP_DATA_DIR
  value: /var/lib/agentidp
{{- range $name, $value := .Values.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}
