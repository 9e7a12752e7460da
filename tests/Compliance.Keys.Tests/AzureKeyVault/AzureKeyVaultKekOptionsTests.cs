using System.Runtime.Versioning;
using Compliance.Keys.AzureKeyVault;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compliance.Keys.Tests.AzureKeyVault;

// The service runs on Linux; the secret file's mode is part of what this class checks.
[UnsupportedOSPlatform("windows")]
public sealed class AzureKeyVaultKekOptionsTests : IDisposable
{
    private const string Section = "Keys:AzureKeyVault";
    private readonly string _directory = Directory.CreateTempSubdirectory("compliance-akv-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("https://contoso-kv.vault.azure.net/keys/compliance-kek")]
    [InlineData("https://contoso-kv.vault.azure.net/keys/compliance-kek/")]
    [InlineData("https://contoso-kv.vault.azure.net/keys/compliance-kek/0123456789abcdef0123456789abcdef")]
    [InlineData("https://contoso-hsm.managedhsm.azure.net/keys/compliance-kek")]
    public void Problems_EeaVaultKey_None(string keyId)
    {
        Valid(o => o.KeyId = keyId).Problems(Section).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("switzerlandnorth")]
    [InlineData("uksouth")]
    [InlineData("eastus")]
    [InlineData("FranceCentral")]
    public void Problems_RegionOutsideTheEea_IsRefusedSayingWhy(string region)
    {
        var problem = Valid(o => o.Region = region).Problems(Section).ShouldHaveSingleItem();

        problem.ShouldStartWith($"{Section}:Region '{region}'");
        problem.ShouldContain("European Economic Area");
        problem.ShouldContain("francecentral");
    }

    [Theory]
    [InlineData("francecentral")]
    [InlineData("westeurope")]
    [InlineData("greececentral")]
    public void Problems_EeaRegion_None(string region)
    {
        Valid(o => o.Region = region).Problems(Section).ShouldBeEmpty();
    }

    [Fact]
    public void Problems_NoRegion_IsRefused()
    {
        Valid(o => o.Region = null).Problems(Section).ShouldHaveSingleItem().ShouldStartWith($"{Section}:Region is required");
    }

    [Theory]
    [InlineData("http://127.0.0.1:8443/keys/compliance-kek", false, "must use https")]
    [InlineData("http://contoso-kv.vault.azure.net/keys/compliance-kek", false, "must use https")]
    [InlineData("http://10.0.0.1/keys/compliance-kek", true, "loopback")]
    [InlineData("http://localhost:8443/keys/compliance-kek", true, "loopback")]
    [InlineData("https://contoso-kv.vault.azure.cn/keys/compliance-kek", false, "sovereign")]
    [InlineData("https://contoso-kv.vault.azure.net.evil.example/keys/compliance-kek", false, "managed HSM")]
    [InlineData("https://contoso-kv.vault.azure.net:8443/keys/compliance-kek", false, "default https port")]
    [InlineData("https://contoso-kv.vault.azure.net/secrets/compliance-kek", false, "must name a key")]
    [InlineData("https://contoso-kv.vault.azure.net/keys/compliance-kek/v1/wrapkey", false, "must name a key")]
    [InlineData("https://contoso-kv.vault.azure.net/keys/../secrets/x", false, "must name a key")]
    [InlineData("https://contoso-kv.vault.azure.net/keys/compliance-kek?api-version=7.5", false, "no user, query")]
    [InlineData("https://user@contoso-kv.vault.azure.net/keys/compliance-kek", false, "no user, query")]
    [InlineData("contoso-kv/keys/compliance-kek", false, "absolute URL")]
    public void Problems_KeyIdNotAnHttpsVaultKey_IsRefused(string keyId, bool allowLoopbackHttp, string why)
    {
        var problem = Valid(o =>
        {
            o.KeyId = keyId;
            o.AllowLoopbackHttp = allowLoopbackHttp;
        }).Problems(Section).ShouldHaveSingleItem();

        problem.ShouldStartWith($"{Section}:KeyId ");
        problem.ShouldContain(why);
    }

    [Fact]
    public void Problems_LoopbackHttpAllowed_None()
    {
        Valid(o =>
        {
            o.KeyId = "http://127.0.0.1:8443/keys/compliance-kek";
            o.AllowLoopbackHttp = true;
        }).Problems(Section).ShouldBeEmpty();
    }

    [Fact]
    public void Problems_UnknownCredential_IsRefused()
    {
        Valid(o => o.Credential = "password").Problems(Section).ShouldHaveSingleItem().ShouldStartWith($"{Section}:Credential 'password'");
    }

    [Fact]
    public void Problems_ClientSecretWithoutItsSettings_NamesEachOne()
    {
        var problems = Valid(o => o.Credential = "client-secret").Problems(Section).ToList();

        problems.ShouldContain(p => p.StartsWith($"{Section}:TenantId", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith($"{Section}:ClientId", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith($"{Section}:ClientSecretFile", StringComparison.Ordinal));
    }

    [Fact]
    public void Problems_SecretFileReadableByOthers_IsRefusedAndNotQuoted()
    {
        var path = SecretFile("s3cr3t-do-not-print", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var problem = ClientSecret(path).Problems(Section).ShouldHaveSingleItem();

        problem.ShouldStartWith($"{Section}:ClientSecretFile");
        problem.ShouldContain("chmod 600");
        problem.ShouldNotContain("s3cr3t");
        Should.Throw<KeyCustodyException>(() => AzureKeyVaultKeyEncryptionKey.CreateCredential(ClientSecret(path))).Message.ShouldNotContain("s3cr3t");
    }

    [Fact]
    public void CreateCredential_OwnerOnlySecretFile_GivesAClientSecretCredential()
    {
        var path = SecretFile("s3cr3t-do-not-print\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var options = ClientSecret(path);

        options.Problems(Section).ShouldBeEmpty();
        AzureKeyVaultKeyEncryptionKey.CreateCredential(options).ShouldBeOfType<Azure.Identity.ClientSecretCredential>();
    }

    [Fact]
    public void Problems_SecretFileWithAnotherCredential_IsRefused()
    {
        Valid(o => o.ClientSecretFile = "/run/secrets/kv").Problems(Section).ShouldHaveSingleItem().ShouldContain("remove the secret file");
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingTheSettings()
    {
        var options = Valid(o => o.Region = "uksouth");

        var exception = Should.Throw<KeyCustodyException>(() => new AzureKeyVaultKeyEncryptionKey(
            options, new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.SystemAssigned), NullLogger<AzureKeyVaultKeyEncryptionKey>.Instance));

        exception.Message.ShouldContain($"{Section}:Region");
    }

    [Theory]
    [InlineData("https://vault.azure.net", "https://contoso-kv.vault.azure.net/keys/k", true)]
    [InlineData("https://contoso-kv.vault.azure.net", "https://contoso-kv.vault.azure.net/keys/k", true)]
    [InlineData("https://managedhsm.azure.net", "https://contoso-hsm.managedhsm.azure.net/keys/k", true)]
    [InlineData("https://vault.azure.net", "https://contoso-hsm.managedhsm.azure.net/keys/k", false)]
    [InlineData("https://ult.azure.net", "https://contoso-kv.vault.azure.net/keys/k", false)]
    [InlineData("https://other-kv.vault.azure.net", "https://contoso-kv.vault.azure.net/keys/k", false)]
    [InlineData("https://graph.microsoft.com", "https://contoso-kv.vault.azure.net/keys/k", false)]
    [InlineData("https://net", "https://contoso-kv.vault.azure.net/keys/k", false)]
    [InlineData("http://vault.azure.net", "https://contoso-kv.vault.azure.net/keys/k", false)]
    [InlineData("http://127.0.0.1:8443", "http://127.0.0.1:8443/keys/k", true)]
    [InlineData("http://127.0.0.1:9443", "http://127.0.0.1:8443/keys/k", false)]
    [InlineData("http://0.0.1", "http://127.0.0.1:8443/keys/k", false)]
    public void Covers_ChallengeResource_OnlyTheRequestHostOrAParentDomain(string resource, string request, bool covers)
    {
        KeyVaultChallengePolicy.Covers(new Uri(resource), new Uri(request), allowLoopbackHttp: true).ShouldBe(covers);
    }

    private static AzureKeyVaultKekOptions ClientSecret(string path) => Valid(o =>
    {
        o.Credential = "client-secret";
        o.TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        o.ClientId = "00000000-0000-0000-0000-000000000001";
        o.ClientSecretFile = path;
    });

    private string SecretFile(string content, UnixFileMode mode)
    {
        var path = Path.Combine(_directory, "client-secret");
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static AzureKeyVaultKekOptions Valid(Action<AzureKeyVaultKekOptions> change)
    {
        var options = new AzureKeyVaultKekOptions
        {
            KeyId = "https://contoso-kv.vault.azure.net/keys/compliance-kek",
            Region = "francecentral",
        };
        change(options);
        return options;
    }
}
