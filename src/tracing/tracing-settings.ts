/**
 * Whether this process traces, from OpenTelemetry's own environment variables: on only when an
 * OTLP endpoint is named, so a process that names none loads nothing of OpenTelemetry at all.
 */
import { ConfigError } from '../config/config';

export interface TracingSettings {
  /** `service.name` of the spans: OTEL_SERVICE_NAME, else the process's own default. */
  serviceName: string;
}

/** The variables that name where spans go; the exporter reads them itself (`/v1/traces` is appended to the first). */
const ENDPOINT_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as const;

/**
 * Null (off) unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; off
 * as well with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, as in every OpenTelemetry SDK.
 * Throws ConfigError for an endpoint that is not an http(s) URL (the exporter would fall back to
 * localhost without a word).
 */
export function tracingSettings(env: NodeJS.ProcessEnv, defaultServiceName: string): TracingSettings | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return null;
  let on = false;
  for (const variable of ENDPOINT_VARIABLES) {
    const value = env[variable]?.trim();
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(variable, `expected an http(s) URL such as http://127.0.0.1:4318 (check the ${variable} setting)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(variable, `expected an http(s) URL: spans are sent as OTLP over HTTP (check the ${variable} setting)`);
    }
    on = true;
  }
  return on ? { serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName } : null;
}
