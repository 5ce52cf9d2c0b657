using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Tests;

/// <summary>The Coordinator's jobs folder: an invalid file stops only its job; a missing folder stops the start.</summary>
public sealed class JobCatalogTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sync-catalog").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Invalid_files_are_kept_with_their_errors_and_the_names_they_claim()
    {
        var jobs = Directory.CreateDirectory(Path.Combine(_root, "jobs")).FullName;
        File.WriteAllText(Path.Combine(jobs, "good.yml"), Yaml("good"));
        File.WriteAllText(Path.Combine(jobs, "broken.yml"), Yaml("broken") + "schedule: \"0 0 1 * MON\"\n");
        File.WriteAllText(Path.Combine(jobs, "unreadable.yml"), "name: x\nsource: [unclosed\n");

        var catalog = Catalog(jobs);

        Assert.Equal(["good"], catalog.All.Select(j => j.Name));
        Assert.Equal([("jobs/broken.yml", "broken"), ("jobs/unreadable.yml", null)], catalog.Invalid.Select(f => (f.File, f.Name)));
        Assert.Equal(["broken", "good"], catalog.ClaimedNames.Order(StringComparer.Ordinal));
        Assert.True(catalog.HasUnnamedInvalidFile);
        Assert.Null(catalog.Find("broken"));
        var (title, detail) = catalog.NotRunnable("broken");
        Assert.Equal("Job \"broken\" does not run: jobs/broken.yml is invalid.", title);
        Assert.Contains("jobs/broken.yml:13:11: schedule: must be a cron schedule", detail, StringComparison.Ordinal);
        Assert.Equal(("Job \"nope\" is not defined.", "Known jobs: good."), catalog.NotRunnable("nope"));
    }

    [Fact]
    public void A_job_that_is_not_defined_lists_a_resolved_cdc_streams_job_once()
    {
        var jobs = Directory.CreateDirectory(Path.Combine(_root, "jobs")).FullName;
        File.WriteAllText(Path.Combine(jobs, "good.yml"), Yaml("good"));
        File.WriteAllText(Path.Combine(jobs, "shop.yml"), """
            name: shop
            mode: cdc
            source: { type: postgres, connection: source }
            destination: { type: postgres, connection: destination }
            streams: [public.*]
            """);
        var catalog = Catalog(jobs);
        var good = catalog.Find("good")!;

        // A cdc streams job resolves to one job of its own name, which is then both a streams job and a job.
        catalog.Resolved([good with { Name = "shop", Mode = SyncMode.Cdc, Streams = [good with { Name = "shop.orders" }] }]);

        Assert.Equal(("Job \"nope\" is not defined.", "Known jobs: good, shop."), catalog.NotRunnable("nope"));
    }

    [Fact]
    public void A_missing_jobs_folder_stops_the_start_naming_it()
    {
        var missing = Path.Combine(_root, "nope");

        var exception = Assert.Throws<InvalidJobFileException>(() => Catalog(missing));

        Assert.Equal(missing, Assert.Single(exception.Errors).File);
    }

    [Fact]
    public void A_reload_reports_added_changed_removed_and_invalid_files_and_a_file_broken_later_stops_only_its_job()
    {
        var jobs = Directory.CreateDirectory(Path.Combine(_root, "jobs")).FullName;
        File.WriteAllText(Path.Combine(jobs, "kept.yml"), Yaml("kept"));
        File.WriteAllText(Path.Combine(jobs, "edited.yml"), Yaml("edited"));
        File.WriteAllText(Path.Combine(jobs, "gone.yml"), Yaml("gone"));
        var catalog = Catalog(jobs);
        var changes = new List<JobCatalogChange>();
        catalog.Changed += changes.Add;

        Assert.False(catalog.Reload().Any);
        File.WriteAllText(Path.Combine(jobs, "edited.yml"), SampleJobs.Orders("edited", batchSize: 500));
        File.Delete(Path.Combine(jobs, "gone.yml"));
        File.WriteAllText(Path.Combine(jobs, "new.yml"), Yaml("new"));
        File.WriteAllText(Path.Combine(jobs, "kept.yml"), Yaml("kept") + "schedule: \"@fortnightly\"\n");
        var change = catalog.Reload();

        Assert.Equal(["new"], change.Added);
        Assert.Equal(["edited"], change.Changed);
        Assert.Equal(["gone", "kept"], change.Removed);
        Assert.Equal(["jobs/kept.yml"], change.Invalid.Select(f => f.File));
        Assert.Equal(500, catalog.Find("edited")?.BatchSize);
        Assert.Null(catalog.Find("kept"));
        Assert.Equal(["edited", "new"], catalog.All.Select(j => j.Name));
        Assert.Contains("kept", catalog.ClaimedNames);
        Assert.Same(change, Assert.Single(changes));
    }

    [Fact]
    public void A_folder_gone_after_the_start_leaves_the_jobs_as_they_were()
    {
        var jobs = Directory.CreateDirectory(Path.Combine(_root, "jobs")).FullName;
        File.WriteAllText(Path.Combine(jobs, "kept.yml"), Yaml("kept"));
        var catalog = Catalog(jobs);
        Directory.Delete(jobs, recursive: true);

        var change = catalog.Reload();

        Assert.False(change.Any);
        Assert.Contains("job directory not found", Assert.Single(change.Errors), StringComparison.Ordinal);
        Assert.Equal(["kept"], catalog.All.Select(j => j.Name));
    }

    private static JobCatalog Catalog(string directory) =>
        new(Options.Create(new JobsOptions { Directory = directory }), NullLogger<JobCatalog>.Instance);

    private static string Yaml(string name) => SampleJobs.Orders(name);
}
