using Compliance.Data.Model;
using Compliance.Oidc.Clients;
using Compliance.Oidc.Grants;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Compliance.Oidc.Accounts;

/// <summary>
/// In Development (or with <c>Oidc:SeedDemo=true</c>), a demo client and a demo account, so that a newcomer can try a
/// sign-in at once. Their secrets are public, in the README: outside Development, a start refuses while they exist,
/// unless <c>Oidc:SeedDemo=true</c> keeps them on purpose; <c>compliance demo remove</c> removes them.
/// </summary>
public sealed class DemoSeed(IServiceScopeFactory scopes, IOptions<OidcOptions> options, IHostEnvironment environment, TimeProvider time)
    : IHostedLifecycleService
{
    public const string ClientId = "demo-client";
    public const string ClientSecret = "demo-client-secret-for-local-tries-only";
    public const string RedirectUri = "http://127.0.0.1:5081/callback";
    public const string Pseudonym = "demo";
    public const string Password = "lavande-orage-2026";

    /// <summary>Refuses the start (after the schema gate, before anything serves) while a demo left over from Development exists.</summary>
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Value.SeedDemo is true || environment.IsDevelopment())
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var (client, account) = await FindAsync(scope.ServiceProvider, cancellationToken);
        if (client || account)
        {
            var what = (client, account) switch
            {
                (true, true) => $"the demo client '{ClientId}' and the demo account '{Pseudonym}' exist",
                (true, false) => $"the demo client '{ClientId}' exists",
                _ => $"the demo account '{Pseudonym}' exists",
            };
            throw new OptionsValidationException(Options.DefaultName, typeof(OidcOptions),
            [
                $"Oidc:SeedDemo: {what} in the {environment.EnvironmentName} store, and their secrets are public. "
                + "Remove them with `compliance demo remove`, or set Oidc:SeedDemo=true to keep them on purpose.",
            ]);
        }
    }

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
            var now = time.GetUtcNow();
            await users.CreateAsync(new Account { Id = Guid.CreateVersion7(now), UserName = Pseudonym, CreatedAt = now, LockoutEnabled = true }, Password);
        }
    }

    /// <summary>
    /// Removes the demo client and the demo account, revoking what the account was issued. Returns what existed.
    /// <paramref name="services"/> is a scope's provider.
    /// </summary>
    public static async Task<(bool Client, bool Account)> RemoveAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var client = await services.GetRequiredService<ClientAdministration>().RemoveAsync(ClientId, cancellationToken);
        var users = services.GetRequiredService<UserManager<Account>>();
        if (await users.FindByNameAsync(Pseudonym) is not { } account)
        {
            return (client, false);
        }

        await services.GetRequiredService<IGrantRevocation>().RevokeSubjectAsync(account.Id, cancellationToken);
        var deleted = await users.DeleteAsync(account);
        if (!deleted.Succeeded)
        {
            throw new InvalidOperationException($"The demo account could not be deleted: {string.Join(" ", deleted.Errors.Select(e => e.Code))}.");
        }

        return (client, true);
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task<(bool Client, bool Account)> FindAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        (await services.GetRequiredService<ComplianceDbContext>().Set<Client>().AnyAsync(c => c.ClientId == ClientId && c.RemovedAt == null, cancellationToken),
         await services.GetRequiredService<UserManager<Account>>().FindByNameAsync(Pseudonym) is not null);
}
