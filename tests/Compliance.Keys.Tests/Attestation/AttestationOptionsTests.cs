using Microsoft.Extensions.Options;

namespace Compliance.Keys.Tests.Attestation;

public sealed class AttestationOptionsTests
{
    [Theory]
    [InlineData(29)]
    [InlineData(1826)]
    [InlineData(0)]
    [InlineData(-365)]
    public void Validate_RotationDaysOutOfRange_IsRefusedNamingTheSetting(int days)
    {
        var options = new KeysOptions { Attestation = new AttestationKeyOptions { RotationDays = days } };

        var result = new KeysOptionsValidator().Validate(null, options);

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain("Keys:Attestation:RotationDays");
    }

    [Theory]
    [InlineData(30)]
    [InlineData(365)]
    [InlineData(1825)]
    public void Validate_RotationDaysInRange_IsAccepted(int days)
    {
        var options = new KeysOptions { Attestation = new AttestationKeyOptions { RotationDays = days } };

        new KeysOptionsValidator().Validate(null, options).ShouldBe(ValidateOptionsResult.Success);
    }

    [Fact]
    public void Default_RotationDays_IsAYear() => new KeysOptions().Attestation.RotationDays.ShouldBe(365);
}
