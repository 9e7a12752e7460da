using System.Net;
using Compliance.Jobs.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Compliance.Server.Hosting;

/// <summary>
/// The <c>Telemetry</c> settings: metrics go over OTLP when <see cref="OtlpEndpoint"/> is set, and are readable in the
/// Prometheus text format at <see cref="MetricsPath"/> from loopback and the listed scrapers only.
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>An OTLP collector (http/protobuf), for example <c>http://collector:4318/v1/metrics</c>. Empty: no export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Where a Prometheus-style scraper reads the metrics.</summary>
    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>Addresses besides loopback allowed to read <see cref="MetricsPath"/> (a scraper). Others get 404.</summary>
    public IList<string> MetricsAllowedAddresses { get; } = [];
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        List<string> failures = [];
        if (!string.IsNullOrEmpty(options.OtlpEndpoint)
            && (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
        {
            failures.Add("Telemetry:OtlpEndpoint must be an absolute http(s) URL.");
        }

        if (!options.MetricsPath.StartsWith('/') || options.MetricsPath.Length > 100 || options.MetricsPath.Contains("..", StringComparison.Ordinal))
        {
            failures.Add("Telemetry:MetricsPath must be a path such as /metrics.");
        }

        for (var i = 0; i < options.MetricsAllowedAddresses.Count; i++)
        {
            if (!IPAddress.TryParse(options.MetricsAllowedAddresses[i], out _))
            {
                failures.Add($"Telemetry:MetricsAllowedAddresses:{i}: '{options.MetricsAllowedAddresses[i]}' is not an IP address.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class Telemetry
{
    public static WebApplicationBuilder AddComplianceTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().Bind(builder.Configuration.GetSection(TelemetryOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();

        // Read leniently here (the exporter is built with the host); the validator refuses a bad value at start.
        var otlp = builder.Configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.OtlpEndpoint)}"];
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(JobMetrics.MeterName, "Microsoft.AspNetCore.Hosting");
            metrics.AddPrometheusExporter();
            if (Uri.TryCreate(otlp, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "http" or "https")
            {
                metrics.AddOtlpExporter(exporter =>
                {
                    exporter.Endpoint = endpoint;
                    exporter.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                });
            }
        });
        return builder;
    }

    public static WebApplication MapComplianceMetrics(this WebApplication app)
    {
        // Routes are mapped before the host validates its options, so the path is read leniently here; a wrong one
        // maps the default and the start is refused by TelemetryOptionsValidator.
        var configured = app.Configuration[$"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.MetricsPath)}"];
        var path = configured is { Length: > 1 and <= 100 } && configured.StartsWith('/') && !configured.Contains("..", StringComparison.Ordinal)
            && Uri.IsWellFormedUriString(configured, UriKind.Relative)
            ? configured
            : new TelemetryOptions().MetricsPath;
        app.MapPrometheusScrapingEndpoint(path)
            .AddEndpointFilter(async (context, next) =>
            {
                // Counts and ages only, no personal data; still, operations data is not for the internet.
                var options = context.HttpContext.RequestServices.GetRequiredService<IOptions<TelemetryOptions>>().Value;
                var remote = context.HttpContext.Connection.RemoteIpAddress;
                if (remote is { IsIPv4MappedToIPv6: true })
                {
                    remote = remote.MapToIPv4();
                }

                return remote is not null && (IPAddress.IsLoopback(remote) || options.MetricsAllowedAddresses.Any(a => IPAddress.TryParse(a, out var allowed) && allowed.Equals(remote)))
                    ? await next(context)
                    : Results.NotFound();
            })
            .ExcludeFromDescription();
        return app;
    }
}
