using System.Net;
using Microsoft.Extensions.Options;

namespace Compliance.Server.Hosting;

/// <summary>The web host's limits and network trust. Bound from the <c>Hosting</c> section, validated at start-up.</summary>
public sealed class HostingOptions
{
    public const string SectionName = "Hosting";

    /// <summary>How long a stopping node lets in-flight requests and jobs finish. Default 30 s; 1 to 600.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>The largest request body accepted, in bytes. Default 1 MiB; 1 KiB to 100 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The reverse proxies (IP addresses) whose <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> are believed, so that
    /// a node behind a TLS-terminating proxy knows the request was HTTPS and sends HSTS. Default: loopback only.
    /// </summary>
    public IList<string> TrustedProxies { get; } = [];
}

internal sealed class HostingOptionsValidator : IValidateOptions<HostingOptions>
{
    public ValidateOptionsResult Validate(string? name, HostingOptions options)
    {
        var failures = new List<string>();
        if (options.ShutdownTimeoutSeconds is < 1 or > 600)
        {
            failures.Add($"Hosting:ShutdownTimeoutSeconds: {options.ShutdownTimeoutSeconds} is out of range; expected 1 to 600.");
        }

        if (options.MaxRequestBodyBytes is < 1024 or > 100 * 1024 * 1024)
        {
            failures.Add($"Hosting:MaxRequestBodyBytes: {options.MaxRequestBodyBytes} is out of range; expected 1024 to 104857600.");
        }

        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!IPAddress.TryParse(options.TrustedProxies[i], out _))
            {
                failures.Add($"Hosting:TrustedProxies:{i}: '{options.TrustedProxies[i]}' is not an IP address.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
