using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files for tests; <see cref="Minimal"/>'s line numbers are relied on by the error tests.</summary>
internal static class JobYaml
{
    public const string Minimal = """
        name: orders
        source:
          type: postgres
          connection: demo_source
          table: orders
          cursor: updated_at
          primary_key: id
        destination:
          type: postgres
          connection: demo_destination
          table: orders_copy

        """;

    public static JobSpec Parse(string yaml)
    {
        var result = JobFile.Parse(yaml, "jobs/test.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    public static IReadOnlyList<JobFileError> Errors(string yaml)
    {
        var result = JobFile.Parse(yaml, "jobs/test.yml");
        Assert.False(result.IsValid);
        Assert.Null(result.Job);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    /// <summary>The one error reported for <paramref name="field"/>.</summary>
    public static JobFileError ErrorAt(string yaml, string field) => Assert.Single(Errors(yaml), e => e.Field == field);

    /// <summary><see cref="Minimal"/> with one line replaced (the replacement may span lines).</summary>
    public static string MinimalWith(string line, string replacement)
    {
        Assert.Contains(line + "\n", Minimal, StringComparison.Ordinal);
        return Minimal.Replace(line + "\n", replacement + "\n", StringComparison.Ordinal);
    }
}
