using System.Globalization;

namespace Compliance.Benchmarks.Ledger;

/// <summary>
/// CPU seconds used so far by this process (the client) and by the PostgreSQL cluster whose data folder LEDGER_PG_DATA
/// names (its postmaster, the children it reaped and those alive), read from /proc. On a shared machine wall-clock
/// rates move with the neighbours' load; CPU per event does not, and says what a quiet machine would reach.
/// </summary>
internal sealed class CpuTime
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly int? _postmaster;

    private CpuTime(int? postmaster) => _postmaster = postmaster;

    public bool SeesServer => _postmaster is not null;

    public static CpuTime FromEnvironment()
    {
        var data = Environment.GetEnvironmentVariable("LEDGER_PG_DATA");
        var pidFile = data is null ? null : Path.Combine(data, "postmaster.pid");
        int? postmaster = pidFile is not null && File.Exists(pidFile) && File.Exists("/proc/self/stat")
            ? int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture)
            : null;
        return new CpuTime(postmaster);
    }

    public (double Client, double Server) Now()
    {
        var client = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        if (_postmaster is not { } postmaster)
        {
            return (client, double.NaN);
        }

        // The postmaster's own time and its reaped children's (fields 14 to 17), plus every live child's (14, 15).
        var ticks = Stat(postmaster) is { } own ? own.User + own.System + own.ChildrenUser + own.ChildrenSystem : 0;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != postmaster
                && Stat(pid) is { } child && child.Parent == postmaster)
            {
                ticks += child.User + child.System;
            }
        }

        return (client, ticks / TicksPerSecond);
    }

    private static (int Parent, long User, long System, long ChildrenUser, long ChildrenSystem)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // the process ended meanwhile
        }

        // After "pid (name) ": state is field 3, so field k is at k - 3.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long At(int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture);
        return ((int)At(4), At(14), At(15), At(16), At(17));
    }
}
