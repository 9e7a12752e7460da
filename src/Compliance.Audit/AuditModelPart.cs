using Compliance.Audit.Trail;
using Compliance.Data.Model;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Audit;

internal sealed class AuditModelPart : IComplianceModelPart
{
    public void Configure(ModelBuilder modelBuilder) => modelBuilder.ApplyConfiguration(new AuditEventConfiguration());
}
