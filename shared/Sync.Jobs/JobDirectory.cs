using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// Loads every <c>*.yml</c> and <c>*.yaml</c> file of a directory (not its subdirectories) as one job each.
/// Errors name files relative to the directory's parent, e.g. <c>jobs/orders.yml</c>.
/// </summary>
public static class JobDirectory
{
    public static JobDirectoryResult Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            var missing = new JobFileError(
                directory,
                0,
                0,
                "",
                $"job directory not found (full path: {Path.GetFullPath(directory)})",
                "create it, or point the jobs directory setting at the folder that holds the *.yml job files");
            return new JobDirectoryResult(new Dictionary<string, JobSpec>(), [missing]);
        }

        var folder = new DirectoryInfo(directory).Name;
        var paths = Directory.EnumerateFiles(directory, "*.*", SearchOption.TopDirectoryOnly)
            .Where(f => f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);

        var errors = new List<JobFileError>();
        var named = new List<(string File, JobFileResult Result)>();
        foreach (var path in paths)
        {
            var file = $"{folder}/{Path.GetFileName(path)}";
            var result = Read(path, file);
            errors.AddRange(result.Errors);
            if (result.Name is not null)
            {
                named.Add((file, result));
            }
        }

        var jobs = new Dictionary<string, JobSpec>(StringComparer.Ordinal);
        foreach (var group in named.GroupBy(p => p.Result.Name!, StringComparer.Ordinal))
        {
            if (group.Count() == 1)
            {
                if (group.Single().Result.Job is { } job)
                {
                    jobs.Add(group.Key, job);
                }

                continue;
            }

            var files = group.Select(p => p.File).ToList();
            foreach (var (file, result) in group)
            {
                var others = string.Join(", ", files.Where(f => f != file));
                errors.Add(new JobFileError(
                    file,
                    (int)result.NameAt.Line,
                    (int)result.NameAt.Column,
                    "name",
                    $"job name \"{group.Key}\" is also used by {others}",
                    "give each job a name of its own; names must be unique across the directory"));
            }
        }

        var ordered = errors.OrderBy(e => e.File, StringComparer.Ordinal).ThenBy(e => e.Line).ThenBy(e => e.Column).ToList();
        return new JobDirectoryResult(jobs, ordered);
    }

    private static JobFileResult Read(string path, string file)
    {
        try
        {
            return JobFile.Parse(File.ReadAllText(path), file);
        }
        catch (IOException e)
        {
            return JobFileResult.Invalid([new JobFileError(file, 0, 0, "", $"cannot be read: {e.Message}", "check that the file exists and is readable")]);
        }
        catch (UnauthorizedAccessException e)
        {
            return JobFileResult.Invalid([new JobFileError(file, 0, 0, "", $"cannot be read: {e.Message}", "check the file's permissions")]);
        }
    }
}
