namespace Compliance.Migrations.Tests;

public class MigrationCatalogTests
{
    public static TheoryData<string> Stores => [.. MigrationCatalog.Stores];

    [Theory]
    [MemberData(nameof(Stores))]
    public void For_EveryProvider_ShipsTheSameVersionsInOrder(string store)
    {
        var versions = MigrationCatalog.Providers
            .Select(provider => MigrationCatalog.For(store, provider).Select(m => $"{m.Version}_{m.Name}").ToList())
            .ToList();

        versions[0].ShouldNotBeEmpty();
        versions.ShouldAllBe(v => v.SequenceEqual(versions[0]));
        MigrationCatalog.For(store, "sqlite").Select(m => m.Version).ShouldBe(Enumerable.Range(1, versions[0].Count));
    }

    [Fact]
    public void Checksum_ScriptEdited_Changes()
    {
        var script = new MigrationScript(1, "one", "CREATE TABLE one (id integer);");

        var edited = script with { Sql = "CREATE TABLE one (id bigint);" };

        edited.Checksum.ShouldNotBe(script.Checksum);
        script.Checksum.ShouldMatch("^[0-9a-f]{64}$");
    }

    [Fact]
    public void Checksum_LineEndingsOnly_DoNotChange()
    {
        var unix = new MigrationScript(1, "one", "CREATE TABLE one (\n id integer\n);");

        var windows = unix with { Sql = "CREATE TABLE one (\r\n id integer\r\n);" };

        windows.Checksum.ShouldBe(unix.Checksum);
    }
}
