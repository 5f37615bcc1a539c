import { ConfigError } from '../../src/config/config';
import { tracingSettings } from '../../src/tracing/tracing-settings';

describe('tracing settings (OpenTelemetry environment variables)', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

  it('is off unless an OTLP endpoint is named', () => {
    expect(tracingSettings({}, 'webhook-api')).toBeNull();
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'hooks', OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, 'webhook-api')).toBeNull();
    expect(tracingSettings(endpoint, 'webhook-api')).toEqual({ serviceName: 'webhook-api' });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/v1/traces' }, 'webhook-worker')).toEqual({ serviceName: 'webhook-worker' });
  });

  it('honours OTEL_SERVICE_NAME, OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingSettings({ ...endpoint, OTEL_SERVICE_NAME: 'hooks-eu' }, 'webhook-api')).toEqual({ serviceName: 'hooks-eu' });
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' }, 'webhook-api')).toBeNull();
    expect(tracingSettings({ ...endpoint, OTEL_SDK_DISABLED: 'false' }, 'webhook-api')).not.toBeNull();
    expect(tracingSettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }, 'webhook-api')).toBeNull();
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318' }, 'x')).toThrow(ConfigError);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'x')).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: expected an http\(s\) URL/);
    expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }, 'x')).toThrow(/OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/);
  });
});
