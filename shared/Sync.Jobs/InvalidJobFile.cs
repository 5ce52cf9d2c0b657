namespace Sync.Jobs;

/// <summary>A job file of a directory that defines no job, with every error found in it.</summary>
/// <param name="File">The file as errors name it, e.g. <c>jobs/orders.yml</c>.</param>
/// <param name="Name">The job name the file gives, when it gives a valid one; null when it cannot be read (e.g. broken YAML).</param>
public sealed record InvalidJobFile(string File, string? Name, IReadOnlyList<JobFileError> Errors);
