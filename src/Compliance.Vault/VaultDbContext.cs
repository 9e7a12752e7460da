using Compliance.Data.Model;
using Compliance.Vault.Identity;
using Compliance.Vault.Traces;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Vault;

/// <summary>
/// The civil store, a separate database from the pseudonymous one. Its schema is the hand-written migrations under
/// <c>migrations/vault</c>; a test keeps this model and them in step.
/// </summary>
public sealed class VaultDbContext(DbContextOptions<VaultDbContext> options) : StoreDbContext(options)
{
    public DbSet<IdentityRecord> IdentityRecords => Set<IdentityRecord>();

    public DbSet<AccessTrace> AccessTraces => Set<AccessTrace>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new IdentityRecordConfiguration());
        modelBuilder.ApplyConfiguration(new AccessTraceConfiguration());
    }
}
