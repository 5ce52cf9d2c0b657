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
            return new JobDirectoryResult(missing);
        }

        var folder = new DirectoryInfo(directory).Name;
        var paths = Directory.EnumerateFiles(directory, "*.*", SearchOption.TopDirectoryOnly)
            .Where(f => f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();

        var files = paths.Select(path => $"{folder}/{Path.GetFileName(path)}").ToList();
        var results = paths.Zip(files, (path, file) => Read(path, file)).ToList();
        var errors = results.Select(r => r.Errors.ToList()).ToList();

        var jobs = new Dictionary<string, JobSpec>(StringComparer.Ordinal);
        var streams = new Dictionary<string, StreamsJob>(StringComparer.Ordinal);
        var named = results.Select((result, index) => (Index: index, Result: result)).Where(r => r.Result.Name is not null);
        foreach (var group in named.GroupBy(r => r.Result.Name!, StringComparer.Ordinal))
        {
            if (group.Count() == 1)
            {
                if (group.Single().Result.Job is { } job)
                {
                    jobs.Add(group.Key, job);
                }
                else if (group.Single().Result.Streams is { } streamsJob)
                {
                    streams.Add(group.Key, streamsJob);
                }

                continue;
            }

            foreach (var (index, result) in group)
            {
                var others = string.Join(", ", group.Where(g => g.Index != index).Select(g => files[g.Index]));
                errors[index].Add(new JobFileError(
                    files[index],
                    (int)result.NameAt.Line,
                    (int)result.NameAt.Column,
                    "name",
                    $"job name \"{group.Key}\" is also used by {others}",
                    "give each job a name of its own; names must be unique across the directory"));
            }
        }

        var invalid = Enumerable.Range(0, files.Count)
            .Where(i => errors[i].Count > 0)
            .Select(i => new InvalidJobFile(files[i], results[i].Name, errors[i].OrderBy(e => e.Line).ThenBy(e => e.Column).ToList()))
            .ToList();
        return new JobDirectoryResult(jobs, invalid, streams);
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
