using Compliance.Data.Model;
using Npgsql;

namespace Compliance.Data.Tests.Storage;

/// <summary>PostgreSQL plans the hot statements once per connection, unless the operator decided otherwise.</summary>
public sealed class PostgresAutoPrepareTests
{
    [Fact]
    public void ConnectionString_WithoutASetting_GetsAutomaticPreparation()
    {
        var result = new NpgsqlConnectionStringBuilder(StoreDbContextOptions.WithAutoPrepare("Host=db.internal;Database=compliance;Username=app"));

        result.MaxAutoPrepare.ShouldBe(64);
        result.Host.ShouldBe("db.internal");
        result.Database.ShouldBe("compliance");
    }

    [Theory]
    [InlineData("Host=db.internal;Database=compliance;Max Auto Prepare=0")]
    [InlineData("Host=db.internal;Database=compliance;MaxAutoPrepare=0")]
    public void ConnectionString_WhereTheOperatorSetIt_IsKeptAsWritten(string connectionString)
    {
        StoreDbContextOptions.WithAutoPrepare(connectionString).ShouldBe(connectionString);
    }
}
