using System.Text.Json;

namespace Sync.Cli.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Run_show_parses_as_the_show_command_not_a_job_named_show()
    {
        var result = SyncCommands.Build().Parse(["run", "show", "0198c3a2-0000-7000-8000-000000000001"]);
        Assert.Empty(result.Errors);
        Assert.Equal("show", result.CommandResult.Command.Name);
    }

    [Fact]
    public void Run_of_a_job_with_follow_parses_as_run()
    {
        var result = SyncCommands.Build().Parse(["run", "orders", "--follow", "--url", "http://127.0.0.1:1", "--api-key", "k"]);
        Assert.Empty(result.Errors);
        Assert.Equal("run", result.CommandResult.Command.Name);
    }

    [Theory]
    [InlineData("dead-letters", "list")]
    [InlineData("dead-letters", "show", "5")]
    [InlineData("dead-letters", "replay", "orders", "--id", "1", "2")]
    [InlineData("dead-letters", "replay", "shop", "--stream", "shop.orders")]
    [InlineData("pause", "orders")]
    [InlineData("resume", "orders")]
    [InlineData("reset", "orders", "--yes")]
    [InlineData("drop-slot", "orders-cdc")]
    [InlineData("drop-slot", "orders-cdc", "-y", "--json")]
    [InlineData("jobs", "--json")]
    [InlineData("watermark", "set", "orders", "2026-12-01T00:00:00Z")]
    [InlineData("check", "demo_source", "--json")]
    [InlineData("backfill", "orders", "--from", "1000", "--to", "2000", "--json")]
    public void Operator_commands_parse(params string[] args)
    {
        Assert.Empty(SyncCommands.Build().Parse(args).Errors);
    }

    [Fact]
    public void A_backfill_without_its_end_is_a_parse_error()
    {
        Assert.NotEmpty(SyncCommands.Build().Parse(["backfill", "orders", "--from", "1"]).Errors);
    }

    [Theory]
    [InlineData("shop", null, "shop")]
    [InlineData("shop", "shop.orders", "shop.orders")]
    [InlineData("shop", "orders", "shop.orders")]
    [InlineData("shop", "stock.orders", null)]
    public void A_replay_of_one_stream_goes_to_the_streams_name(string job, string? stream, string? target)
    {
        Assert.Equal(target, OperatorCommands.ReplayTarget(job, stream));
    }

    [Fact]
    public void A_dead_letter_id_that_is_not_a_number_is_a_parse_error()
    {
        Assert.NotEmpty(SyncCommands.Build().Parse(["dead-letters", "show", "abc"]).Errors);
    }

    [Fact]
    public void Progress_line_shows_batches_rows_and_rate()
    {
        using var run = JsonDocument.Parse("""{"state":"Loading","loadedBatches":3,"expectedBatches":10,"processed":3000}""");
        Assert.Equal("Loading    batches 3/10  rows 3000  1500 rows/s", RunProgressLine.Format(run.RootElement, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Progress_line_before_the_batch_count_is_known_shows_a_question_mark()
    {
        using var run = JsonDocument.Parse("""{"state":"Extracting","loadedBatches":0,"expectedBatches":null,"processed":0}""");
        Assert.StartsWith("Extracting batches 0/?", RunProgressLine.Format(run.RootElement, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Problem_text_joins_title_and_detail()
    {
        Assert.Equal("Job \"x\" is not defined. Known jobs: a.", ProblemText.Of("""{"title":"Job \"x\" is not defined.","detail":"Known jobs: a.","status":404}"""));
        Assert.Equal("plain", ProblemText.Of("plain"));
    }

    [Fact]
    public void Drop_slot_needs_the_job()
    {
        Assert.NotEmpty(SyncCommands.Build().Parse(["drop-slot"]).Errors);
    }

    [Fact]
    public void Drop_slot_prints_each_recorded_slot_with_its_fate()
    {
        using var answer = JsonDocument.Parse("""
            [{"job":"orders-cdc","connection":"source","slot":"sync_orders_cdc","fate":"Dropped","reason":null},
             {"job":"orders-cdc","connection":"retired","slot":"sync_orders_cdc","fate":"Skipped","reason":"connection \"retired\" is not configured (Connections__retired); kept and tried again later"}]
            """);

        Assert.Equal(
            new[]
            {
                "orders-cdc: slot sync_orders_cdc on connection source dropped, with its publication and the job's watermark",
                "orders-cdc: slot sync_orders_cdc on connection retired skipped: connection \"retired\" is not configured (Connections__retired); kept and tried again later",
            },
            OperatorCommands.SlotOutcomes(answer.RootElement));
    }

    [Fact]
    public void Jobs_lists_an_invalid_job_file_with_each_error_under_the_valid_jobs_columns()
    {
        using var answer = JsonDocument.Parse("""
            [{"name":"broken","valid":false,"file":"jobs/broken.yml","errors":[
               {"file":"jobs/broken.yml","line":2,"column":11,"field":"schedule","message":"must be a cron schedule","suggestion":"use @hourly","text":"jobs/broken.yml:2:11: schedule: must be a cron schedule. Fix: use @hourly"},
               {"file":"jobs/broken.yml","line":5,"column":3,"field":"source.table","message":"is required","suggestion":null,"text":"jobs/broken.yml:5:3: source.table: is required"}],
              "schedule":null,"lastSync":null,"source":null,"destination":null},
             {"name":"orders","valid":true,"file":null,"errors":[],"schedule":"@hourly","lastSync":null,"source":"public.orders","destination":"public.orders_copy"}]
            """);

        Assert.Equal(
            new[]
            {
                "JOB                          SCHEDULE         LAST SYNC                          SOURCE -> DESTINATION",
                "broken                       INVALID          jobs/broken.yml: 2 problem(s); the job does not run until the file is fixed and the Coordinator restarted",
                "  jobs/broken.yml:2:11: schedule: must be a cron schedule. Fix: use @hourly",
                "  jobs/broken.yml:5:3: source.table: is required",
                "orders                       @hourly          -                                  public.orders -> public.orders_copy",
            },
            SyncCommands.JobLines(answer.RootElement));
        Assert.True(SyncCommands.AnyInvalid(answer.RootElement));
    }

    [Fact]
    public void Jobs_whose_files_all_loaded_are_not_reported_invalid()
    {
        using var answer = JsonDocument.Parse("""
            [{"name":"orders","valid":true,"file":null,"errors":[],"schedule":"@hourly","lastSync":null,"source":"public.orders","destination":"public.orders_copy"}]
            """);

        Assert.False(SyncCommands.AnyInvalid(answer.RootElement));
    }

    [Fact]
    public void Confirmation_accepts_only_yes()
    {
        Assert.True(OperatorCommands.Confirm("?", new StringReader("y\n")));
        Assert.True(OperatorCommands.Confirm("?", new StringReader("YES\n")));
        Assert.False(OperatorCommands.Confirm("?", new StringReader("\n")));
        Assert.False(OperatorCommands.Confirm("?", new StringReader(string.Empty)));
    }
}
