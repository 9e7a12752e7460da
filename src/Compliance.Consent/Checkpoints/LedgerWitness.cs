using System.Text.Json;
using Compliance.Data.Storage;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Compliance.Consent.Checkpoints;

/// <summary>
/// The latest checkpoint this node signed or published, kept outside the database (<c>Consent:WitnessFile</c>; by
/// default <c>ledger-witness.json</c> in the SQLite data folder). A database restored from an older backup holds fewer
/// events, or another root at that size: appends are then refused until an operator reconciles
/// (<c>compliance ledger reconcile --accept-store</c>). Without a witness file (PostgreSQL with the setting unset) only
/// the checkpoints table and the partners' and auditors' own copies of the checkpoints stand guard.
/// </summary>
internal sealed class LedgerWitness(IOptions<ConsentOptions> options, IOptions<StorageOptions> storage)
{
    public sealed record Seen(long TreeSize, string RootHash)
    {
        public byte[] Root => Base64UrlEncoder.DecodeBytes(RootHash);
    }

    private readonly Lock _gate = new();

    /// <summary>The witness file, or null when this node keeps none.</summary>
    public string? Path => options.Value.WitnessFile is { Length: > 0 } configured
        ? System.IO.Path.GetFullPath(configured)
        : storage.Value.ParsedProvider == DatabaseProvider.Sqlite ? System.IO.Path.Combine(storage.Value.ResolveDataDirectory(), "ledger-witness.json") : null;

    public Seen? Latest()
    {
        var path = Path;
        if (path is null || !File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Seen>(File.ReadAllBytes(path)) is { TreeSize: > 0, RootHash.Length: 43 } seen ? seen
                : throw new Ledger.ConsentLedgerException("witness_unreadable", $"The ledger witness {path} is not valid; restore it or reconcile (compliance ledger reconcile).");
        }
        catch (JsonException)
        {
            throw new Ledger.ConsentLedgerException("witness_unreadable", $"The ledger witness {path} is not valid; restore it or reconcile (compliance ledger reconcile).");
        }
    }

    /// <summary>Records a checkpoint when it is later than the one recorded (or replaces it, when <paramref name="force"/>).</summary>
    public void Record(SignedCheckpoint checkpoint, bool force = false)
    {
        var path = Path;
        if (path is null)
        {
            return;
        }

        lock (_gate)
        {
            if (!force && Latest() is { } seen && seen.TreeSize >= checkpoint.TreeSize)
            {
                return;
            }

            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp";
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(new Seen(checkpoint.TreeSize, Base64UrlEncoder.Encode(checkpoint.RootHash))));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temporary, path, overwrite: true);
        }
    }

    /// <summary>Forgets the witness (an operator accepted an empty ledger).</summary>
    public void Clear()
    {
        if (Path is { } path && File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
