using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>The <c>verify:</c> section (issue 15): verifications a job asks for itself, and columns left out of them.</summary>
public sealed class VerifySectionTests
{
    private const string Mapped = JobYaml.Minimal + """
        columns:
          id: id
          amount: amount
          updated_at: updated_at
          synced_at: { expr: "now()" }

        """;

    [Fact]
    public void Without_a_verify_section_the_job_is_verified_on_request_only_with_every_column()
    {
        Assert.Equal(VerifySpec.OnRequest, JobYaml.Parse(JobYaml.Minimal).Verify);
    }

    [Fact]
    public void After_run_schedule_and_ignored_columns_are_read()
    {
        var verify = JobYaml.Parse(JobYaml.Minimal + "verify:\n  after_run: true\n  schedule: \"0 3 * * *\"\n  ignore: [synced_at, loaded_by]\n").Verify!;

        Assert.True(verify.AfterRun);
        Assert.Equal("0 3 * * *", verify.Schedule);
        Assert.Equal(["synced_at", "loaded_by"], verify.Ignore);
    }

    [Fact]
    public void A_column_computed_by_an_expression_may_be_verified_around_when_it_is_ignored()
    {
        var job = JobYaml.Parse(Mapped + "verify: { after_run: true, ignore: [synced_at] }\n");

        Assert.Null(VerifyRules.Refusal(job));
    }

    [Fact]
    public void Asking_for_verifications_of_a_job_that_cannot_be_verified_is_refused_with_the_reason()
    {
        var error = JobYaml.ErrorAt(Mapped + "verify: { after_run: true }\n", "verify");

        Assert.Contains("cannot be verified: transform expression of column synced_at", error.Message, StringComparison.Ordinal);
        Assert.Contains("remove verify:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_column_cannot_be_ignored()
    {
        var error = JobYaml.ErrorAt(Mapped + "verify: { ignore: [id] }\n", "verify.ignore[0]");

        Assert.Contains("destination.key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ignored_column_the_job_does_not_write_is_refused_with_the_closest_name()
    {
        var error = JobYaml.ErrorAt(Mapped + "verify: { ignore: [synced_a] }\n", "verify.ignore[0]");

        Assert.Contains("not a column the job writes", error.Message, StringComparison.Ordinal);
        Assert.Equal("use synced_at", error.Suggestion);
    }

    [Fact]
    public void A_cdc_job_is_verified_on_a_schedule_not_after_each_run()
    {
        const string cdc = """
            name: orders_cdc
            schedule: continuous
            source:
              type: postgres
              connection: source_db
              table: public.orders
              mode: cdc
              primary_key: [id]
            destination:
              type: postgres
              connection: destination_db
              table: public.orders

            """;

        var error = JobYaml.ErrorAt(cdc + "verify: { after_run: true }\n", "verify.after_run");

        Assert.Contains("verified on a schedule", error.Message, StringComparison.Ordinal);
        Assert.Equal("0 3 * * *", JobYaml.Parse(cdc + "verify: { schedule: \"0 3 * * *\" }\n").Verify!.Schedule);
    }

    [Fact]
    public void An_s3_job_is_verified_on_a_schedule_not_after_each_run()
    {
        const string s3 = """
            name: orders_s3
            source:
              type: postgres
              connection: source_db
              table: public.orders
              cursor: updated_at
              primary_key: [id]
            destination:
              type: s3
              connection: lake
              prefix: exports/

            """;

        var error = JobYaml.ErrorAt(s3 + "verify: { after_run: true }\n", "verify.after_run");

        Assert.Contains("manifest is written after the run completes", error.Message, StringComparison.Ordinal);
        Assert.Equal("0 3 * * *", JobYaml.Parse(s3 + "verify: { schedule: \"0 3 * * *\" }\n").Verify!.Schedule);
    }

    [Theory]
    [InlineData("schedule: continuous", "verify.schedule")]
    [InlineData("schedule: \"61 * * * *\"", "verify.schedule")]
    [InlineData("after_run: yes", "verify.after_run")]
    [InlineData("every: 1h", "verify.every")]
    public void A_bad_setting_is_reported_at_its_field(string setting, string field)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + $"verify:\n  {setting}\n", field);

        Assert.NotNull(error.Suggestion);
    }
}
