using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Compliance.Server.Hosting;

/// <summary>
/// Takes Kestrel's place on a worker-only node (<c>Jobs:WorkerOnly=true</c>): the node runs the job server and the
/// other hosted services, and binds no port, so it serves no HTTP at all.
/// </summary>
internal sealed class WorkerOnlyServer : IServer
{
    public WorkerOnlyServer()
    {
        Features.Set<IServerAddressesFeature>(new ServerAddressesFeature());
    }

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }

    public static bool IsConfigured(IConfiguration configuration) =>
        configuration.GetSection("Jobs").GetValue("WorkerOnly", defaultValue: false);
}
