using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// In Development (or with <c>Oidc:SeedDemo=true</c>), a demo client and a demo account, so that a newcomer can try a
/// sign-in at once. Their secrets are public, in the README: never enable this in production.
/// </summary>
internal sealed class DemoSeed(IServiceScopeFactory scopes, IOptions<OidcOptions> options, IHostEnvironment environment) : IHostedService
{
    public const string ClientId = "demo-client";
    public const string ClientSecret = "demo-client-secret-for-local-tries-only";
    public const string RedirectUri = "http://127.0.0.1:5081/callback";
    public const string Pseudonym = "demo";
    public const string Password = "lavande-orage-2026";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!(options.Value.SeedDemo ?? environment.IsDevelopment()))
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComplianceDbContext>();
        if (!await db.Set<Client>().AnyAsync(c => c.ClientId == ClientId, cancellationToken))
        {
            await scope.ServiceProvider.GetRequiredService<ClientAdministration>().AddAsync(
                new ClientRequest(
                    ClientId,
                    "Démo / Demo",
                    ClientTypes.Confidential,
                    ClientAuthMethods.SecretBasic,
                    [RedirectUri],
                    ["http://127.0.0.1:5081/"],
                    ["openid", "offline_access"],
                    ["authorization_code", "refresh_token", "client_credentials"]),
                cancellationToken,
                fixedSecret: ClientSecret);
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<Account>>();
        if (await users.FindByNameAsync(Pseudonym) is null)
        {
            var now = DateTimeOffset.UtcNow;
            await users.CreateAsync(new Account { Id = Guid.CreateVersion7(now), UserName = Pseudonym, CreatedAt = now, LockoutEnabled = true }, Password);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
