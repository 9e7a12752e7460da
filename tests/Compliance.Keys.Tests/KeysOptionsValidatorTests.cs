using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Compliance.Keys.Tests;

public class KeysOptionsValidatorTests
{
    private readonly KeysOptionsValidator _validator = new();

    [Fact]
    public void Validate_Defaults_Succeeds()
    {
        var result = _validator.Validate(null, new KeysOptions());

        result.Succeeded.ShouldBeTrue(result.FailureMessage);
    }

    public static TheoryData<KeysOptions, string> Invalid => new()
    {
        { new KeysOptions { SigningKeyLifetimeDays = 1 }, "Keys:SigningKeyLifetimeDays" },
        { new KeysOptions { SigningKeyLifetimeDays = 366 }, "Keys:SigningKeyLifetimeDays" },
        { new KeysOptions { PrePublishDays = 0 }, "Keys:PrePublishDays" },
        { new KeysOptions { PrePublishDays = 91 }, "Keys:PrePublishDays" },
        { new KeysOptions { SigningKeyLifetimeDays = 10, PrePublishDays = 10 }, "Keys:PrePublishDays" },
        { new KeysOptions { RetiredKeyPublishDays = 0 }, "Keys:RetiredKeyPublishDays" },
        { new KeysOptions { RetiredKeyPublishDays = -3 }, "Keys:RetiredKeyPublishDays" },
        { new KeysOptions { LocalKekPath = "  " }, "Keys:LocalKekPath" },
        { new KeysOptions { LocalKekPath = "/tmp/" }, "Keys:LocalKekPath" },
        { new KeysOptions { LocalKekPath = Path.GetTempPath().TrimEnd('/') }, "Keys:LocalKekPath" },
        { new KeysOptions { LocalKekPath = "bad\0path" }, "Keys:LocalKekPath" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_OutOfRange_FailsNamingTheSetting(KeysOptions options, string setting)
    {
        var result = _validator.Validate(null, options);

        result.Failed.ShouldBeTrue();
        result.Failures.ShouldHaveSingleItem().ShouldStartWith(setting + ":");
    }

    [Fact]
    public void Validate_LimitsThemselves_Succeed()
    {
        var result = _validator.Validate(null, new KeysOptions { SigningKeyLifetimeDays = 2, PrePublishDays = 1, RetiredKeyPublishDays = 90, LocalKekPath = "custody/kek.key" });

        result.Succeeded.ShouldBeTrue(result.FailureMessage);
    }

    [Fact]
    public void GetOptions_InvalidSection_ThrowsOptionsValidationExceptionNamingTheSetting()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Keys:PrePublishDays"] = "0" })
            .Build();
        using var services = new ServiceCollection()
            .AddComplianceKeys(configuration)
            .BuildServiceProvider();

        var exception = Should.Throw<OptionsValidationException>(() => services.GetRequiredService<IOptions<KeysOptions>>().Value);

        exception.Failures.ShouldContain(f => f.StartsWith("Keys:PrePublishDays:", StringComparison.Ordinal));
    }
}
