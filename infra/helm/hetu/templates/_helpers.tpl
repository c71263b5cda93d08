{{- define "hetu.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "hetu.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "hetu.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hetu.tokensSecret" -}}
{{- if .Values.api.tokens.existingSecret -}}{{ .Values.api.tokens.existingSecret }}{{- else -}}{{ include "hetu.fullname" . }}-api-tokens{{- end -}}
{{- end -}}

{{/* The environment every hetu container gets: cluster, Kafka, Prometheus, LLM, API tokens. */}}
{{- define "hetu.env" -}}
- name: HETU_CLUSTER
  value: {{ .Values.clusterName | quote }}
{{- if .Values.kafka.brokers }}
- name: HETU_KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
- name: HETU_SCHEMA_REGISTRY_URL
  value: {{ required "kafka.brokers needs registry.url (the Confluent-compatible API of its schema registry)" .Values.registry.url | quote }}
{{- end }}
{{- if .Values.prometheus.url }}
- name: HETU_PROMETHEUS_URL
  value: {{ .Values.prometheus.url | quote }}
{{- end }}
{{- if .Values.llm.baseUrl }}
- name: HETU_LLM_BASE_URL
  value: {{ .Values.llm.baseUrl | quote }}
- name: HETU_LLM_MODEL
  value: {{ required "llm.baseUrl needs llm.model" .Values.llm.model | quote }}
- name: HETU_LLM_MAX_TOKENS
  value: {{ .Values.llm.maxTokens | int64 | quote }}
- name: HETU_LLM_DAILY_TOKENS
  value: {{ .Values.llm.dailyTokens | int64 | quote }}
- name: HETU_LLM_PSEUDONYMIZE
  value: {{ ternary "1" "0" .Values.llm.pseudonymize | quote }}
{{- if .Values.llm.existingSecret }}
- name: HETU_LLM_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.llm.existingSecret }}
      key: {{ .Values.llm.apiKeyKey }}
{{- end }}
{{- end }}
- name: HETU_API_READ_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "hetu.tokensSecret" . }}
      key: read-token
- name: HETU_API_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "hetu.tokensSecret" . }}
      key: admin-token
{{- end -}}
