using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Compliance.Keys.Tests.AzureKeyVault;

/// <summary>Keeps every log line (message and exception, at every level) so that tests can look for leaks.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public string All => string.Join("\n", _lines);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception}");
}
