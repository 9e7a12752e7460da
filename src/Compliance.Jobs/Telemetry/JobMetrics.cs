using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Compliance.Jobs.Telemetry;

/// <summary>
/// Job counters and the age of the oldest due item per kind, on the <c>Compliance.Jobs</c> meter. Exported over OTLP
/// and at the Prometheus-style endpoint by the host. Tags are kinds and states, never ids.
/// </summary>
public sealed class JobMetrics : IDisposable
{
    public const string MeterName = "Compliance.Jobs";

    private readonly Meter _meter;
    private readonly Counter<long> _enqueued;
    private readonly Counter<long> _succeeded;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _retried;
    private readonly ConcurrentDictionary<string, double> _oldestDueSeconds = new(StringComparer.Ordinal);

    public JobMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _enqueued = _meter.CreateCounter<long>("compliance.jobs.enqueued", "{job}", "Jobs put in the queue, by kind.");
        _succeeded = _meter.CreateCounter<long>("compliance.jobs.succeeded", "{job}", "Jobs that ran to the end, by kind.");
        _failed = _meter.CreateCounter<long>("compliance.jobs.failed", "{job}", "Jobs that failed for good after their retries, by kind.");
        _retried = _meter.CreateCounter<long>("compliance.jobs.retried", "{job}", "Failed runs that will be retried, by kind.");
        _meter.CreateObservableGauge(
            "compliance.jobs.oldest_due_age",
            () => _oldestDueSeconds.Select(entry => new Measurement<double>(entry.Value, new KeyValuePair<string, object?>("kind", entry.Key))),
            "s",
            "Age of the oldest unfinished item that our tables say is due, by kind, as of the last reconciler pass.");
    }

    internal void Enqueued(string kind) => _enqueued.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Succeeded(string kind) => _succeeded.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Failed(string kind) => _failed.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Retried(string kind) => _retried.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void RecordOldestDue(string kind, DateTimeOffset? oldestDue, DateTimeOffset now) =>
        _oldestDueSeconds[kind] = oldestDue is { } due && due < now ? (now - due).TotalSeconds : 0;

    public void Dispose() => _meter.Dispose();
}
