using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
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
    public void A_missing_jobs_folder_stops_the_start_naming_it()
    {
        var missing = Path.Combine(_root, "nope");

        var exception = Assert.Throws<InvalidJobFileException>(() => Catalog(missing));

        Assert.Equal(missing, Assert.Single(exception.Errors).File);
    }

    private static JobCatalog Catalog(string directory) =>
        new(Options.Create(new JobsOptions { Directory = directory }), NullLogger<JobCatalog>.Instance);

    private static string Yaml(string name) => SampleJobs.Orders(name);
}
