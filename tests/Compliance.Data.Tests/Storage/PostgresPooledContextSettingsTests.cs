using Compliance.Data.Model;
using Npgsql;

namespace Compliance.Data.Tests.Storage;

/// <summary>
/// The contexts' pool plans the hot statements once per connection and skips Npgsql's seven-statement reset, unless
/// the operator decided otherwise; either way its connection string differs from the store's own, so raw connections
/// (the migrator's, with its session lock) come from another pool, which keeps the reset.
/// </summary>
public sealed class PostgresPooledContextSettingsTests
{
    private const string Plain = "Host=db.internal;Database=compliance;Username=app";

    [Fact]
    public void ConnectionString_WithoutSettings_GetsAutomaticPreparation_AndNoResetOnClose()
    {
        var result = new NpgsqlConnectionStringBuilder(StoreDbContextOptions.ForPooledContexts(Plain));

        result.MaxAutoPrepare.ShouldBe(64);
        result.NoResetOnClose.ShouldBeTrue();
        result.Host.ShouldBe("db.internal");
        result.Database.ShouldBe("compliance");
        result.Username.ShouldBe("app");
        StoreDbContextOptions.ForPooledContexts(Plain).ShouldNotBe(Plain, "another string is another Npgsql pool");
    }

    [Theory]
    [InlineData("Host=db.internal;Database=compliance;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=db.internal;Database=compliance;MaxAutoPrepare=0;NoResetOnClose=false")]
    public void ConnectionString_WhereTheOperatorSetBoth_IsKeptAsWritten(string connectionString)
    {
        StoreDbContextOptions.ForPooledContexts(connectionString).ShouldBe(connectionString);
    }

    [Fact]
    public void EachSetting_TheOperatorWrote_IsKept_AndOnlyTheOtherIsAdded()
    {
        var prepareSet = new NpgsqlConnectionStringBuilder(StoreDbContextOptions.ForPooledContexts(Plain + ";Max Auto Prepare=0"));
        prepareSet.MaxAutoPrepare.ShouldBe(0);
        prepareSet.NoResetOnClose.ShouldBeTrue();

        var resetSet = new NpgsqlConnectionStringBuilder(StoreDbContextOptions.ForPooledContexts(Plain + ";No Reset On Close=false"));
        resetSet.NoResetOnClose.ShouldBeFalse();
        resetSet.MaxAutoPrepare.ShouldBe(64);
    }
}
