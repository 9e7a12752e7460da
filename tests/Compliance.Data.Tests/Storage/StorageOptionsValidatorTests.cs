using Compliance.Data.Storage;

namespace Compliance.Data.Tests.Storage;

public class StorageOptionsValidatorTests
{
    private readonly StorageOptionsValidator _validator = new();

    [Fact]
    public void Validate_NoSettingsAtAll_AcceptsTheEmbeddedDefault()
    {
        var options = new StorageOptions { DataDirectory = Directory.CreateTempSubdirectory().FullName };

        var result = _validator.Validate(null, options);

        result.Succeeded.ShouldBeTrue();
        options.ParsedProvider.ShouldBe(DatabaseProvider.Sqlite);
        options.ShouldMigrateOnStart.ShouldBeTrue();
        options.ConnectionFor(Store.Vault).ConnectionString.ShouldContain("vault.db");
    }

    [Fact]
    public void DataDirectory_Missing_IsCreatedOwnerOnly()
    {
        var parent = Directory.CreateTempSubdirectory().FullName;
        var options = new StorageOptions { DataDirectory = Path.Combine(parent, "new", "data") };

        _validator.Validate(null, options).Succeeded.ShouldBeTrue();

        Directory.Exists(options.DataDirectory).ShouldBeTrue();
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(options.DataDirectory).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.GroupWrite)]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.OtherWrite)]
    public void DataDirectory_OpenToOtherUsers_IsRefusedNamingTheFolderAndTheFix(UnixFileMode extra)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var directory = Directory.CreateTempSubdirectory().FullName;
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | extra);

        var result = _validator.Validate(null, new StorageOptions { DataDirectory = directory });

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain($"Storage:DataDirectory: the folder '{directory}' is open to other users");
        result.FailureMessage.ShouldContain("chmod 700");
    }

    [Theory]
    [InlineData("MySql")]
    [InlineData("")]
    [InlineData("1")]
    public void Provider_Unknown_IsRefusedByName(string provider)
    {
        var result = _validator.Validate(null, new StorageOptions { Provider = provider });

        result.Failed.ShouldBeTrue();
        result.FailureMessage!.ShouldStartWith("Storage:Provider: unknown provider");
    }

    [Fact]
    public void Postgres_WithoutConnectionStrings_NamesBothSettings()
    {
        var result = _validator.Validate(null, new StorageOptions { Provider = "postgresql" });

        result.Failures!.ShouldContain("Storage:ComplianceConnectionString: required when Storage:Provider is PostgreSQL.");
        result.Failures!.ShouldContain("Storage:VaultConnectionString: required when Storage:Provider is PostgreSQL.");
    }

    [Fact]
    public void Postgres_VaultInTheComplianceDatabase_IsRefused()
    {
        var result = _validator.Validate(null, new StorageOptions
        {
            Provider = "PostgreSQL",
            ComplianceConnectionString = "Host=db;Database=compliance;Username=a",
            VaultConnectionString = "Host=DB;Port=5432;Database=compliance;Username=b",
        });

        result.FailureMessage!.ShouldContain("the vault must be a separate database");
    }

    [Fact]
    public void Postgres_MalformedConnectionString_NeverEchoesIt()
    {
        var result = _validator.Validate(null, new StorageOptions
        {
            Provider = "PostgreSQL",
            ComplianceConnectionString = "Host=db;Database=c;Password=TopSecret;Nonsense Key=1",
            VaultConnectionString = "Host=db;Database=v",
        });

        result.FailureMessage!.ShouldContain("Storage:ComplianceConnectionString: not a valid PostgreSQL connection string");
        result.FailureMessage!.ShouldNotContain("TopSecret");
    }

    [Fact]
    public void Sqlite_InMemoryConnectionString_IsRefused()
    {
        var result = _validator.Validate(null, new StorageOptions
        {
            DataDirectory = Directory.CreateTempSubdirectory().FullName,
            VaultConnectionString = "Data Source=:memory:;Mode=Memory",
        });

        result.FailureMessage!.ShouldContain("Storage:VaultConnectionString: a SQLite connection string must name a database file");
    }
}
