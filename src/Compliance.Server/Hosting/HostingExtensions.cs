using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Compliance.Data.Storage;
using Compliance.Oidc;
using Microsoft.Extensions.Options;

namespace Compliance.Server.Hosting;

/// <summary>The web host's cross-cutting set-up: logs, limits, errors, headers, OpenAPI, shutdown.</summary>
internal static class HostingExtensions
{
    public static WebApplicationBuilder AddComplianceHosting(this WebApplicationBuilder builder)
    {
        // One JSON object per line from the built-in formatter; messages come from [LoggerMessage] methods.
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            options.IncludeScopes = false;
            options.JsonWriterOptions = new JsonWriterOptions { Indented = false };
        });

        var services = builder.Services;
        services.AddOptions<HostingOptions>().Bind(builder.Configuration.GetSection(HostingOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HostingOptions>, HostingOptionsValidator>();
        services.AddSingleton<IValidateOptions<OidcOptions>, UrlsWithoutIssuerValidator>();
        // These framework options are built while the host is constructed, before validation can report anything;
        // so they read the raw settings leniently, and HostingOptionsValidator refuses the start if a value is wrong.
        var hosting = builder.Configuration.GetSection(HostingOptions.SectionName);
        services.Configure<HostOptions>(host =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(ReadInt(hosting, nameof(HostingOptions.ShutdownTimeoutSeconds), 30, 1, 600)));
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = ReadInt(hosting, nameof(HostingOptions.MaxRequestBodyBytes), 1024 * 1024, 1024, 100 * 1024 * 1024);
        });
        services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in hosting.GetSection(nameof(HostingOptions.TrustedProxies)).GetChildren())
            {
                if (IPAddress.TryParse(proxy.Value, out var address))
                {
                    forwarded.KnownProxies.Add(address);
                }
            }
        });
        services.AddHsts(options =>
        {
            options.MaxAge = TimeSpan.FromDays(365);
            options.IncludeSubDomains = true;
        });

        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", ErrorCodes.ForStatus(status));
        });
        services.AddOpenApi();
        return builder;
    }

    private static int ReadInt(IConfiguration section, string key, int fallback, int min, int max) =>
        int.TryParse(section[key], NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : fallback;

    public static WebApplication UseComplianceHosting(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A malformed or oversized request is the client's fault and says so; anything else is a 500 without details.
            StatusCodeSelector = exception => exception is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            ExceptionHandler = StatusCodeAnswers.WriteFailureAsync,
        });
        app.UseComplianceStatusCodePages();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        return app;
    }

    /// <summary>
    /// Builds the request pipeline (<paramref name="pipeline"/>) and runs until shut down. A start refused for a known
    /// reason (settings, policy files, schema, unreachable store), even while the pipeline is built,
    /// ends with one line naming what is wrong and exit code 78 (EX_CONFIG), not a stack trace.
    /// </summary>
    public static async Task<int> RunComplianceAsync(this WebApplication app, Action<WebApplication> pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Compliance.Server");
        var version = typeof(HostingExtensions).Assembly.GetName().Version?.ToString() ?? "0";
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // One readable line: where this node listens, the issuer partners see, and which stores it uses.
            var storage = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
            var provider = storage.ParsedProvider.ToString();
            var addresses = string.Join(" ", app.Urls);
            var issuer = app.Services.GetRequiredService<IOptions<OidcOptions>>().Value.IssuerUri;
            var compliance = StoreDescription.Of(storage.ConnectionFor(Store.Compliance));
            var vault = StoreDescription.Of(storage.ConnectionFor(Store.Vault));
            HostingLog.Ready(logger, version, addresses, issuer, provider, compliance, vault);
        });
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            var timeout = app.Services.GetRequiredService<IOptions<HostingOptions>>().Value.ShutdownTimeoutSeconds;
            HostingLog.Stopping(logger, timeout);
        });
        try
        {
            pipeline(app);
            await app.RunAsync();
            return 0;
        }
        catch (Exception exception) when (StartupFailure.Explain(exception) is { } reason)
        {
            HostingLog.StartRefused(logger, reason);
            await Console.Error.WriteLineAsync($"compliance: start refused: {reason}");
            return StartupFailure.ExitCode;
        }
    }
}
