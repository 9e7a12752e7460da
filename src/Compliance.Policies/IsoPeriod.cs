using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Compliance.Policies;

/// <summary>
/// A date-based ISO 8601 duration such as <c>P1Y</c>, <c>P6M</c>, <c>P2W</c> or <c>P1Y6M15D</c>.
/// Years and months stay calendar units: <c>P1M</c> added to 31 January ends on the last day of
/// February, never "30 days later" (GDPR Art. 12(3) counts in calendar months).
/// Time parts (<c>PT12H</c>) are rejected: legal periods here are counted in days or more.
/// </summary>
public readonly record struct IsoPeriod
{
    /// <summary>The largest value accepted for each component, far beyond any legal period.</summary>
    public const int MaxComponent = 9999;

    public IsoPeriod(int years, int months, int weeks, int days)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(years);
        ArgumentOutOfRangeException.ThrowIfNegative(months);
        ArgumentOutOfRangeException.ThrowIfNegative(weeks);
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(years, MaxComponent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(months, MaxComponent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weeks, MaxComponent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(days, MaxComponent);
        Years = years;
        Months = months;
        Weeks = weeks;
        Days = days;
    }

    public static IsoPeriod Zero => default;

    public int Years { get; }

    public int Months { get; }

    public int Weeks { get; }

    public int Days { get; }

    public bool IsZero => Years == 0 && Months == 0 && Weeks == 0 && Days == 0;

    public static IsoPeriod FromYears(int years) => new(years, 0, 0, 0);

    public static IsoPeriod FromMonths(int months) => new(0, months, 0, 0);

    public static IsoPeriod FromDays(int days) => new(0, 0, 0, days);

    /// <summary>
    /// Adds the period to <paramref name="start"/>: first the calendar months (years count as
    /// 12 months, and the day is clamped to the end of a shorter month), then the days.
    /// </summary>
    public DateTimeOffset AddTo(DateTimeOffset start) =>
        start.AddMonths((Years * 12) + Months).AddDays((Weeks * 7) + Days);

    /// <summary>Same as <see cref="AddTo(DateTimeOffset)"/> for a calendar date.</summary>
    public DateOnly AddTo(DateOnly start) =>
        start.AddMonths((Years * 12) + Months).AddDays((Weeks * 7) + Days);

    /// <summary>Parses an ISO 8601 date-based duration; throws <see cref="FormatException"/> with the reason.</summary>
    public static IsoPeriod Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var period, out var error) ? period : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, out IsoPeriod period) =>
        TryParse(text, out period, out _);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why, in words a policy author understands.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out IsoPeriod period, [NotNullWhen(false)] out string? error)
    {
        period = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "a period is required, e.g. P1Y, P6M or P30D";
            return false;
        }

        if (text[0] != 'P')
        {
            error = $"'{text}' is not an ISO 8601 period: it must start with 'P' (e.g. P1Y, P6M, P30D)";
            return false;
        }

        if (text.Contains('T', StringComparison.Ordinal))
        {
            error = $"'{text}' has a time part: only years (Y), months (M), weeks (W) and days (D) are allowed";
            return false;
        }

        int years = 0, months = 0, weeks = 0, days = 0;
        const string order = "YMWD";
        var lastDesignator = -1;
        var position = 1;
        if (position == text.Length)
        {
            error = $"'{text}' has no component: write e.g. P0D for an empty period";
            return false;
        }

        while (position < text.Length)
        {
            var digitsStart = position;
            while (position < text.Length && char.IsAsciiDigit(text[position]))
            {
                position++;
            }

            if (position == digitsStart)
            {
                error = $"'{text}' is not an ISO 8601 period: expected a number at position {position + 1}";
                return false;
            }

            if (position == text.Length)
            {
                error = $"'{text}' ends with a number without a unit (Y, M, W or D)";
                return false;
            }

            var designator = order.IndexOf(text[position], StringComparison.Ordinal);
            if (designator < 0)
            {
                error = $"'{text}' has an unknown unit '{text[position]}': use Y, M, W or D (fractions are not allowed)";
                return false;
            }

            if (designator <= lastDesignator)
            {
                error = $"'{text}' repeats a unit or puts them out of order: write them as Y, M, W, D";
                return false;
            }

            if (!int.TryParse(text.AsSpan(digitsStart, position - digitsStart), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                || value > MaxComponent)
            {
                error = $"'{text}' has a component larger than {MaxComponent}";
                return false;
            }

            switch (text[position])
            {
                case 'Y':
                    years = value;
                    break;
                case 'M':
                    months = value;
                    break;
                case 'W':
                    weeks = value;
                    break;
                default:
                    days = value;
                    break;
            }

            lastDesignator = designator;
            position++;
        }

        period = new IsoPeriod(years, months, weeks, days);
        error = null;
        return true;
    }

    /// <summary>The canonical ISO 8601 form, e.g. <c>P1Y6M</c>; <c>P0D</c> for zero.</summary>
    public override string ToString()
    {
        if (IsZero)
        {
            return "P0D";
        }

        var builder = new StringBuilder("P");
        Append(builder, Years, 'Y');
        Append(builder, Months, 'M');
        Append(builder, Weeks, 'W');
        Append(builder, Days, 'D');
        return builder.ToString();
    }

    private static void Append(StringBuilder builder, int value, char designator)
    {
        if (value > 0)
        {
            builder.Append(value.ToString(CultureInfo.InvariantCulture)).Append(designator);
        }
    }
}
