namespace Sync.Jobs.Tests;

public sealed class JobDirectoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"sync-jobs-{Guid.NewGuid():N}");
    private readonly string _jobs;

    public JobDirectoryTests()
    {
        _jobs = Path.Combine(_root, "jobs");
        Directory.CreateDirectory(_jobs);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Every_yml_and_yaml_file_loads_as_a_job_by_name()
    {
        Write("orders.yml", JobYaml.Minimal);
        Write("customers.yaml", JobYaml.Minimal.Replace("name: orders", "name: customers", StringComparison.Ordinal));
        Write("notes.txt", "not a job");

        var result = JobDirectory.Load(_jobs);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(["customers", "orders"], result.Jobs.Keys.Order());
        Assert.Equal("customers", result.Jobs["customers"].Name);
        result.ThrowIfInvalid();
    }

    [Fact]
    public void A_name_used_by_two_files_is_reported_in_both_and_loads_neither()
    {
        Write("a.yml", JobYaml.Minimal);
        Write("b.yml", "# the same job again\n" + JobYaml.Minimal);
        Write("c.yml", JobYaml.Minimal.Replace("name: orders", "name: customers", StringComparison.Ordinal));

        var result = JobDirectory.Load(_jobs);

        Assert.Equal(["customers"], result.Jobs.Keys);
        Assert.Collection(
            result.Errors,
            a => Assert.Equal(("jobs/a.yml", 1, 7, "name", "job name \"orders\" is also used by jobs/b.yml"), (a.File, a.Line, a.Column, a.Field, a.Message)),
            b => Assert.Equal(("jobs/b.yml", 2, 7, "name", "job name \"orders\" is also used by jobs/a.yml"), (b.File, b.Line, b.Column, b.Field, b.Message)));
        Assert.All(result.Errors, e => Assert.NotNull(e.Suggestion));
        Assert.Equal([("jobs/a.yml", "orders"), ("jobs/b.yml", "orders")], result.InvalidFiles.Select(f => (f.File, f.Name)));
    }

    [Fact]
    public void A_name_used_twice_is_reported_even_when_one_file_has_other_errors()
    {
        Write("a.yml", JobYaml.Minimal);
        Write("b.yml", JobYaml.Minimal + "batch_size: 5\n");

        var result = JobDirectory.Load(_jobs);

        Assert.Empty(result.Jobs);
        Assert.Equal(
            [("jobs/a.yml", "name"), ("jobs/b.yml", "name"), ("jobs/b.yml", "batch_size")],
            result.Errors.Select(e => (e.File, e.Field)));
    }

    [Fact]
    public void Errors_name_files_relative_to_the_directory_parent_and_valid_files_still_load()
    {
        Write("orders.yml", JobYaml.Minimal);
        Write("broken.yml", JobYaml.Minimal.Replace("name: orders", "name: broken\nbatchsize: 10", StringComparison.Ordinal));

        var result = JobDirectory.Load(_jobs);

        Assert.False(result.IsValid);
        Assert.Equal(["orders"], result.Jobs.Keys);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("jobs/broken.yml:2:1: batchsize: unknown key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_invalid_file_is_listed_with_its_job_name_and_its_own_errors()
    {
        Write("orders.yml", JobYaml.Minimal);
        Write("broken.yml", JobYaml.Minimal.Replace("name: orders", "name: broken\nschedule: \"@fortnightly\"\nbatch_size: 5", StringComparison.Ordinal));
        Write("unreadable.yml", "name: unreadable\nsource: [unclosed\n");

        var result = JobDirectory.Load(_jobs);

        Assert.True(result.Found);
        Assert.Equal(["orders"], result.Jobs.Keys);
        Assert.Collection(
            result.InvalidFiles,
            broken =>
            {
                Assert.Equal(("jobs/broken.yml", "broken"), (broken.File, broken.Name));
                Assert.Equal([("schedule", 2), ("batch_size", 3)], broken.Errors.Select(e => (e.Field, e.Line)));
            },
            unreadable =>
            {
                Assert.Equal(("jobs/unreadable.yml", null), (unreadable.File, unreadable.Name));
                Assert.All(unreadable.Errors, e => Assert.Equal("jobs/unreadable.yml", e.File));
                Assert.NotEmpty(unreadable.Errors);
            });
        Assert.Equal(result.InvalidFiles.SelectMany(f => f.Errors), result.Errors);
    }

    [Fact]
    public void A_missing_directory_is_one_error_naming_it()
    {
        var missing = Path.Combine(_root, "nope");

        var result = JobDirectory.Load(missing);

        Assert.False(result.Found);
        Assert.Empty(result.Jobs);
        Assert.Empty(result.InvalidFiles);
        var error = Assert.Single(result.Errors);
        Assert.Equal(missing, error.File);
        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Suggestion);
    }

    [Fact]
    public void ThrowIfInvalid_lists_every_error_one_per_line()
    {
        Write("a.yml", "name: A\n");

        var result = JobDirectory.Load(_jobs);

        var exception = Assert.Throws<InvalidJobFileException>(result.ThrowIfInvalid);
        Assert.Equal(result.Errors, exception.Errors);
        Assert.Equal(string.Join(Environment.NewLine, result.Errors), exception.Message);
        Assert.Equal(3, exception.Message.Split(Environment.NewLine).Length);
    }

    private void Write(string file, string text) => File.WriteAllText(Path.Combine(_jobs, file), text);
}
