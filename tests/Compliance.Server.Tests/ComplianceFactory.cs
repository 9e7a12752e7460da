using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Compliance.Server.Tests;

/// <summary>The real host, in memory, on the stores and settings a test gives it.</summary>
public sealed class ComplianceFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");

        // Production creates the first key-encryption key only on purpose; the tests' fresh stores say so.
        builder.UseSetting("Keys:CreateKekIfMissing", "true");

        // Test hosts run no job server unless the test is about scheduling (it then sets Jobs:Server=true).
        builder.UseSetting("Jobs:Server", "false");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
