using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Compliance.Consent.Tests.Outbox;

/// <summary>
/// A partner's webhook: a real Kestrel listener on a free loopback port (never 5080) that records every request and
/// answers with <see cref="Status"/> (a 3xx carries a Location to <c>/elsewhere</c>, which records too).
/// </summary>
public sealed class WebhookListener : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookListener(WebApplication app) => _app = app;

    /// <summary>The status the listener answers with; change it while the test runs.</summary>
    public int Status { get; set; } = StatusCodes.Status202Accepted;

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public string HookUrl => new Uri(BaseAddress, "/hook").ToString();

    public static async Task<WebhookListener> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var listener = new WebhookListener(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            listener.Received.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path, context.Request.ContentType, body));
            context.Response.StatusCode = listener.Status;
            if (listener.Status is >= 300 and < 400)
            {
                context.Response.Headers.Location = "/elsewhere";
            }
        });
        await app.StartAsync();
        listener.BaseAddress = new Uri(app.Urls.Single());
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedRequest(string Method, string Path, string? ContentType, string Body);

/// <summary>A clock the test moves.</summary>
public sealed class MovableClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
