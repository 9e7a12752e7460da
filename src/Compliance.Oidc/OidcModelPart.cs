using Compliance.Data.Model;
using Compliance.Oidc.Accounts;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Compliance.Oidc.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Compliance.Oidc;

internal sealed class OidcModelPart : IComplianceModelPart
{
    public void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new AccountConfiguration());
        modelBuilder.ApplyConfiguration(new ClientConfiguration());
        modelBuilder.ApplyConfiguration(new ConsentGrantConfiguration());
        modelBuilder.ApplyConfiguration(new AuthorizationCodeConfiguration());
        modelBuilder.ApplyConfiguration(new RefreshTokenConfiguration());
        modelBuilder.ApplyConfiguration(new IssuedTokenConfiguration());
        modelBuilder.ApplyConfiguration(new PushedRequestConfiguration());
        modelBuilder.ApplyConfiguration(new PairwiseSubjectConfiguration());
        modelBuilder.ApplyConfiguration(new UsedAssertionConfiguration());
        modelBuilder.ApplyConfiguration(new TokenFamilyConfiguration());
        modelBuilder.ApplyConfiguration(new BrowserSessionConfiguration());
        modelBuilder.ApplyConfiguration(new SessionClientConfiguration());
        modelBuilder.ApplyConfiguration(new LogoutDeliveryConfiguration());
        modelBuilder.ApplyConfiguration(new SignInThrottleEntryConfiguration());
        modelBuilder.ApplyConfiguration(new Accounts.Factors.TotpFactorConfiguration());
        modelBuilder.ApplyConfiguration(new Accounts.Factors.RecoveryCodeConfiguration());
        modelBuilder.ApplyConfiguration(new Accounts.Factors.PasskeyConfiguration());
        modelBuilder.ApplyConfiguration(new SignInRecordConfiguration());
        modelBuilder.ApplyConfiguration(new Staff.StaffAccountConfiguration());
        modelBuilder.ApplyConfiguration(new Staff.StaffSessionRecordConfiguration());
    }
}
