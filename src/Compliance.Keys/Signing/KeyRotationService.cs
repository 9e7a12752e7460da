using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.Signing;

/// <summary>
/// Ensures the signing keys when the host starts (after the schema gate, which runs in <c>StartingAsync</c>) and
/// then checks the schedule every hour. A node that cannot use the current keys (another KEK than the one that
/// wrapped them) refuses to start. Every node runs it; rotation is idempotent and safe under concurrency.
/// </summary>
internal sealed class KeyRotationService(ISigningKeys keys, TimeProvider time, ILogger<KeyRotationService> logger) : IHostedService, IDisposable
{
    /// <summary>Rotation works in days; an hourly check keeps a key from signing more than an hour past its schedule.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromHours(1);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await keys.RotateAsync(cancellationToken);
        foreach (var algorithm in SigningAlgorithms.All)
        {
            // Unwraps the keys that sign: a KEK mismatch stops the start here, not at the first token request.
            await keys.GetSigningCredentialsAsync(algorithm, cancellationToken);
        }

        _loop = RunAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loop is null)
        {
            return;
        }

        try
        {
            await _stopping.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The host was disposed before it was stopped: the loop is already gone with it.
            return;
        }

        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await keys.RotateAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    KeysLog.RotationFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
