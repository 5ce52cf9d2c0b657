using System.Globalization;
using Sync.Contracts;

namespace Sync.Connectors.Files;

/// <summary>
/// Which files a files source still has to read, and the position it commits once they are loaded.
/// A (modified time, name) position alone skips every file that appears with an older modified time
/// than the newest one read — moved in, <c>rsync -t</c>'d, untarred, a slow multi-part upload — so the
/// position lists the files read that are still there (<see cref="CursorPosition.Files"/>), by name,
/// modified time and size: a file is pending while no entry matches it, so it is read once whatever its
/// modified time, and again when that or its size changes. Its Values stay the (modified time, name) of
/// the newest file read, for people. It commits with the run's end, so a run that fails reads the same
/// files again.
/// </summary>
internal static class FilesWatermark
{
    /// <summary>
    /// Files a position lists, at most. It travels in every ExtractBatches and sits in the run's saga
    /// row, which the Coordinator reads for each batch, so it stays small (about 90 bytes a file).
    /// Past it the entries of the oldest files go, and a file appearing later with a modified time
    /// at or before theirs is not read (<see cref="FilesRead.ForgottenThrough"/>).
    /// </summary>
    public const int RememberedFilesLimit = 1_000;

    /// <summary>The files of <paramref name="listed"/> modified at or before <paramref name="settledBefore"/> that are not read yet, in (modified time, name) order.</summary>
    public static List<FileRead> Pending(IEnumerable<FileRead> listed, CursorPosition? after, DateTime settledBefore)
    {
        var wasRead = ReadBefore(after);
        return [.. listed
            .Where(f => f.Modified <= settledBefore && !wasRead(f))
            .OrderBy(f => f.Modified).ThenBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>The position after a run that read <paramref name="read"/> (not empty) of <paramref name="listed"/>.</summary>
    public static CursorPosition Next(IReadOnlyList<FileRead> listed, CursorPosition? after, IReadOnlyCollection<FileRead> read)
    {
        var wasRead = ReadBefore(after);
        var readNow = read.ToHashSet();
        var forgottenThrough = after?.Files?.ForgottenThrough;
        // Only what is still listed: a file removed from the folder needs no entry, and one put back is read again.
        var remembered = listed
            .Where(f => (readNow.Contains(f) || wasRead(f)) && !(f.Modified <= forgottenThrough))
            .OrderByDescending(f => f.Modified).ThenBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        if (remembered.Count > RememberedFilesLimit)
        {
            // All files of the newest modified time that goes, so none of them is read again.
            forgottenThrough = remembered[RememberedFilesLimit].Modified;
            remembered.RemoveAll(f => f.Modified <= forgottenThrough);
        }

        var newest = read.OrderBy(f => f.Modified).ThenBy(f => f.Name, StringComparer.Ordinal).Last();
        var (modified, name) = Newest(after) is { } before && IsAfter(before, (newest.Modified, newest.Name))
            ? before
            : (newest.Modified, newest.Name);
        return new CursorPosition([modified.ToString("O", CultureInfo.InvariantCulture), name], new FilesRead(remembered, forgottenThrough));
    }

    private static Func<FileRead, bool> ReadBefore(CursorPosition? after)
    {
        if (after?.Files is { } files)
        {
            var known = files.Files.ToHashSet();
            return f => f.Modified <= files.ForgottenThrough || known.Contains(f);
        }

        // A position written before files were listed (or none): read is what sorts up to it.
        if (Newest(after) is { } position)
        {
            return f => !IsAfter((f.Modified, f.Name), position);
        }

        return _ => false;
    }

    private static bool IsAfter((DateTime Modified, string Name) file, (DateTime Modified, string Name) position) =>
        file.Modified > position.Modified || (file.Modified == position.Modified && string.CompareOrdinal(file.Name, position.Name) > 0);

    private static (DateTime Modified, string Name)? Newest(CursorPosition? after) =>
        after is { Values: [var at, var name] }
            ? (DateTime.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), name)
            : null;
}
