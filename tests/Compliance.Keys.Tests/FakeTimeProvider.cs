namespace Compliance.Keys.Tests;

/// <summary>A clock that moves only when a test says so. Timers are the system's (no test here waits on one).</summary>
public sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    /// <summary>A start that is not on a whole second, so that truncation is exercised.</summary>
    public static DateTimeOffset DefaultStart { get; } = new DateTimeOffset(2030, 1, 15, 9, 30, 0, TimeSpan.Zero).AddTicks(1_234_567);

    public FakeTimeProvider()
        : this(DefaultStart)
    {
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _utcTicks, by.Ticks);
    }
}
