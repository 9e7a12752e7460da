using Compliance.Data.Model;
using Compliance.Keys.Attestation;
using Compliance.Keys.Hashing;
using Compliance.Keys.Signing;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Keys;

internal sealed class KeysModelPart : IComplianceModelPart
{
    public void Configure(ModelBuilder modelBuilder) => modelBuilder
        .ApplyConfiguration(new SigningKeyConfiguration())
        .ApplyConfiguration(new KeyedHashSecretConfiguration())
        .ApplyConfiguration(new DataProtection.DataProtectionKeyConfiguration())
        .ApplyConfiguration(new AttestationKeyConfiguration());
}
