using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Compliance.Data.Model;

/// <summary>
/// The pseudonymous store. Its model is the union of the modules' <see cref="IComplianceModelPart"/>s; its schema
/// is the hand-written migrations under <c>migrations/compliance</c>, and a test keeps the two in step.
/// </summary>
public sealed class ComplianceDbContext(DbContextOptions<ComplianceDbContext> options, IEnumerable<IComplianceModelPart> parts)
    : StoreDbContext(options)
{
    internal IReadOnlyList<IComplianceModelPart> Parts { get; } = [.. parts.OrderBy(p => p.GetType().FullName, StringComparer.Ordinal)];

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        foreach (var part in Parts)
        {
            part.Configure(modelBuilder);
        }
    }
}

/// <summary>Caches one model per set of parts, so that hosts composed differently never share a model.</summary>
internal sealed class ComplianceModelCacheKeyFactory : IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime) => context is ComplianceDbContext compliance
        ? (context.GetType(), string.Join('|', compliance.Parts.Select(p => p.GetType().FullName)), context.Database.ProviderName, designTime)
        : (context.GetType(), context.Database.ProviderName, designTime);
}
