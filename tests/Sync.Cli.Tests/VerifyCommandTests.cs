using System.Text.Json;

namespace Sync.Cli.Tests;

public sealed class VerifyCommandTests
{
    [Theory]
    [InlineData("verify", "orders")]
    [InlineData("verify", "orders", "--repair", "--json")]
    public void Verify_parses(params string[] args)
    {
        var result = SyncCommands.Build().Parse(args);
        Assert.Empty(result.Errors);
        Assert.Equal("verify", result.CommandResult.Command.Name);
    }

    [Fact]
    public void Verify_needs_the_job()
    {
        Assert.NotEmpty(SyncCommands.Build().Parse(["verify"]).Errors);
    }

    [Theory]
    [InlineData("""{"outcome":"Equal","exitCode":0}""", 0)]
    [InlineData("""{"outcome":"Different","exitCode":1}""", 1)]
    [InlineData("""{"outcome":"Unverifiable","exitCode":2}""", 2)]
    [InlineData("""{}""", 2)]
    public void The_exit_code_is_the_verifications(string json, int exitCode)
    {
        using var verification = JsonDocument.Parse(json);
        Assert.Equal(exitCode, VerifyCommand.ExitCode(verification.RootElement));
    }

    [Fact]
    public void A_different_job_lists_each_key_with_the_columns_that_differ()
    {
        using var verification = JsonDocument.Parse("""
            {"jobName":"orders","outcome":"Different","exitCode":1,"watermark":"2024-06-01 00:00:00+00","sourceRows":100,"destinationRows":99,
             "missing":1,"extra":0,"different":1,"duplicated":0,"durationMs":12,
             "mismatches":[{"kind":"missing","key":["17"],"columns":null},{"kind":"different","key":["42"],"columns":["note","total"]}],
             "repairRunId":null}
            """);

        Assert.Equal(
            [
                "orders: different up to 2024-06-01 00:00:00+00  source 100  destination 99  missing 1  extra 0  different 1  duplicated 0  (12 ms)",
                "  missing    (17)",
                "  different  (42)  columns note, total",
            ],
            VerifyCommand.Lines(verification.RootElement));
    }

    [Fact]
    public void An_unverifiable_job_shows_the_reason()
    {
        using var verification = JsonDocument.Parse("""{"jobName":"orders","outcome":"Unverifiable","exitCode":2,"reason":"cannot verify: transform Upper","mismatches":[]}""");
        Assert.Equal(["orders: cannot verify: transform Upper"], VerifyCommand.Lines(verification.RootElement));
    }
}
