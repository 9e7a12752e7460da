namespace Compliance.Keys.Signing;

/// <summary>A key's place in its algorithm's chain.</summary>
internal interface IScheduledKey
{
    int Generation { get; }

    DateTimeOffset ActivatesAt { get; }
}

/// <summary>What rotation should do to one algorithm's chain now.</summary>
/// <param name="CreateGeneration">The generation to add, or <c>null</c> when the chain has a current and a next key.</param>
/// <param name="CreateActivatesAt">When the added key starts signing.</param>
/// <param name="Purge">Retired keys that are no longer published.</param>
internal sealed record RotationPlan(int? CreateGeneration, DateTimeOffset CreateActivatesAt, IReadOnlyList<int> Purge);

/// <summary>
/// The rotation rules, as pure functions of a chain (ordered by generation), the time and the settings:
/// <list type="bullet">
/// <item>the current key is the latest one activated (or the first, while a brand-new first key is not yet active on a node whose clock lags);</item>
/// <item>a key signs until its successor activates; the successor activates <c>SigningKeyLifetimeDays</c> after it, and never less than <c>PrePublishDays</c> after the successor was created (published);</item>
/// <item>a retired key is published until <c>RetiredKeyPublishDays</c> after its successor activated, then purged.</item>
/// </list>
/// </summary>
internal static class SigningKeySchedule
{
    public static int CurrentIndex<TKey>(IReadOnlyList<TKey> chain, DateTimeOffset now)
        where TKey : IScheduledKey
    {
        var current = 0;
        for (var i = 1; i < chain.Count; i++)
        {
            if (chain[i].ActivatesAt <= now)
            {
                current = i;
            }
        }

        return current;
    }

    /// <summary>Whether the key at <paramref name="index"/> belongs in the JWKS now.</summary>
    public static bool IsPublished<TKey>(IReadOnlyList<TKey> chain, int index, DateTimeOffset now, KeysOptions options)
        where TKey : IScheduledKey =>
        index == chain.Count - 1 || now < chain[index + 1].ActivatesAt.AddDays(options.RetiredKeyPublishDays);

    public static RotationPlan Plan<TKey>(IReadOnlyList<TKey> chain, DateTimeOffset now, KeysOptions options)
        where TKey : IScheduledKey
    {
        var start = TruncateToSeconds(now);
        if (chain.Count == 0)
        {
            // The very first key signs at once: nothing was issued before it, so nobody needs it in advance.
            return new RotationPlan(0, start, []);
        }

        var current = CurrentIndex(chain, now);
        var purge = new List<int>();
        for (var i = 0; i < current; i++)
        {
            if (!IsPublished(chain, i, now, options))
            {
                purge.Add(chain[i].Generation);
            }
        }

        if (current < chain.Count - 1)
        {
            return new RotationPlan(null, default, purge);
        }

        var scheduled = chain[current].ActivatesAt.AddDays(options.SigningKeyLifetimeDays);
        var earliest = start.AddDays(options.PrePublishDays);
        return new RotationPlan(chain[current].Generation + 1, scheduled > earliest ? scheduled : earliest, purge);
    }

    /// <summary>Whole seconds, so that a time survives both providers' storage exactly (it is sealed with the key).</summary>
    public static DateTimeOffset TruncateToSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
