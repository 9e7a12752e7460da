using Microsoft.EntityFrameworkCore;

namespace Compliance.Data.Model;

/// <summary>
/// A module's share of the pseudonymous store's model. Each module registers one with
/// <see cref="DataServiceCollectionExtensions.AddComplianceModelPart{TPart}"/> and applies only its own
/// entity configurations: modules never map each other's tables.
/// </summary>
public interface IComplianceModelPart
{
    /// <summary>Applies the module's <c>IEntityTypeConfiguration</c>s.</summary>
    void Configure(ModelBuilder modelBuilder);
}
