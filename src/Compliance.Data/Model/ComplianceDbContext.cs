using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Compliance.Data.Model;

/// <summary>
/// The pseudonymous store. Its model is the union of the modules' <see cref="IComplianceModelPart"/>s; its schema
/// is the hand-written migrations under <c>migrations/compliance</c>, and a test keeps the two in step.
/// </summary>
/// <remarks>
/// Contexts are pooled (each request would otherwise rebuild the context's services); so the parts come with the
/// options, which the pool builds once, rather than through the constructor.
/// </remarks>
public sealed class ComplianceDbContext(DbContextOptions<ComplianceDbContext> options) : StoreDbContext(options)
{
    internal IReadOnlyList<IComplianceModelPart> Parts { get; } = options.FindExtension<ModelPartsExtension>()?.Parts ?? [];

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

/// <summary>Carries the modules' model parts in the options of <see cref="ComplianceDbContext"/>.</summary>
internal sealed class ModelPartsExtension(IEnumerable<IComplianceModelPart> parts) : IDbContextOptionsExtension
{
    public IReadOnlyList<IComplianceModelPart> Parts { get; } = [.. parts.OrderBy(p => p.GetType().FullName, StringComparer.Ordinal)];

    public DbContextOptionsExtensionInfo Info => new PartsInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
    }

    public void Validate(IDbContextOptions options)
    {
    }

    // The parts change the model, which ComplianceModelCacheKeyFactory keys on, not EF's internal services.
    private sealed class PartsInfo(ModelPartsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => "";

        public override int GetServiceProviderHashCode() => 0;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) => other is PartsInfo;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo)
        {
        }
    }
}
